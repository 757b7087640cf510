from __future__ import annotations

from pydantic import Field

from cxinbox.core.wire import ApiModel
from cxinbox.models.identity import Plan


class LimitUsageOut(ApiModel):
    used: int
    limit: int | None = Field(description="The maximum; null is unlimited")
    remaining: int | None = Field(description="How many more fit; null is unlimited")


class PlanUsage(ApiModel):
    plan: Plan
    limits: dict[str, LimitUsageOut] = Field(description="Usage per limit name, e.g. `seats`")


class PlanOut(ApiModel):
    plan: Plan
    limits: dict[str, int | None] = Field(description="Maximum per limit name; null is unlimited")
