"""Wire models of account alerts."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cxinbox.conversations.schemas import UserRef
from cxinbox.core.wire import ApiModel, UtcDatetime
from cxinbox.models.whatsapp import AlertSeverity


class AlertOut(ApiModel):
    id: str
    whatsapp_account_id: str
    type: str = Field(
        description="What raised it: the account_update event (ACCOUNT_VIOLATION, ACCOUNT_RESTRICTION, "
        "DISABLED_UPDATE, …), PHONE_NUMBER_QUALITY_UPDATE, PHONE_NUMBER_NAME_UPDATE, ACCOUNT_REVIEW_UPDATE, "
        "BUSINESS_CAPABILITY_UPDATE, an account_alerts alert type, or TOKEN_INVALID"
    )
    severity: AlertSeverity
    title: str
    message: str
    details: dict[str, Any] = Field(description="What raised it, as received (webhook change or Graph error)")
    occurred_at: UtcDatetime = Field(description="When it happened by Meta's clock, else when it was seen")
    acknowledged: bool
    acknowledged_at: UtcDatetime | None
    acknowledged_by: UserRef | None
    created_at: UtcDatetime


class UnreadCount(ApiModel):
    count: int = Field(description="Unacknowledged alerts of the organization")
    by_severity: dict[AlertSeverity, int] = Field(
        description="The same count per severity (every key present)"
    )


class AcknowledgedAll(ApiModel):
    acknowledged: int = Field(description="How many alerts this call acknowledged")
