"""The one shape every bulk endpoint shares.

Request: ``{"action": …, "selection": {"mode": "ids", "ids": […]}}`` or
``{"action": …, "selection": {"mode": "filter", "filter": {…}}}`` (plus action-specific fields).
Response: how many items succeeded and which failed, why.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from cxinbox.core.wire import ApiModel, RequestModel

MAX_BULK_IDS = 1000


class BulkSelection(RequestModel):
    mode: Literal["ids", "filter"]
    ids: list[str] | None = Field(default=None, max_length=MAX_BULK_IDS)
    filter: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _mode_has_its_field(self) -> BulkSelection:
        if self.mode == "ids" and not self.ids:
            raise ValueError("selection.ids is required when mode is 'ids'")
        if self.mode == "filter" and self.filter is None:
            self.filter = {}
        return self


class BulkFailure(ApiModel):
    id: str
    code: str
    message: str


class BulkResult(ApiModel):
    action: str
    requested: int
    succeeded: int
    failed: list[BulkFailure] = Field(default_factory=list)
    succeeded_ids: list[str] = Field(default_factory=list)
