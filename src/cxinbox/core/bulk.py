"""The one shape every bulk endpoint shares.

Request: ``{"action": …, "selection": {"mode": "ids", "ids": […]}}`` or
``{"action": …, "selection": {"mode": "filter", "filter": {…}}}`` (plus action-specific fields).
Response: how many items succeeded and which failed, why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field, model_validator

from cxinbox.core.errors import ValidationFailed
from cxinbox.core.validation import Id
from cxinbox.core.wire import ApiModel, RequestModel

MAX_BULK_IDS = 1000


class BulkSelection(RequestModel):
    mode: Literal["ids", "filter"]
    ids: list[Id] | None = Field(default=None, max_length=MAX_BULK_IDS)
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


class _HasId(Protocol):
    id: str


Item = TypeVar("Item", bound=_HasId)
Criteria = TypeVar("Criteria", bound=BaseModel)


async def select_items(
    selection: BulkSelection,
    *,
    by_ids: Callable[[list[str]], Awaitable[dict[str, Item]]],
    filter_model: type[Criteria],
    by_filter: Callable[[Criteria], Awaitable[Sequence[Item]]],
) -> tuple[list[str], dict[str, Item]]:
    """The ids a selection names (in order, without repeats) and the items found for them.

    ``by_filter`` gets the selection's ``filter`` validated as ``filter_model`` and answers at most
    ``MAX_BULK_IDS`` items; ids ``by_ids`` does not find are the caller's to report as failed.
    """
    if selection.mode == "ids":
        ids = list(dict.fromkeys(selection.ids or []))
        return ids, await by_ids(ids)
    try:
        criteria = filter_model.model_validate(selection.filter or {})
    except ValueError as exc:
        raise ValidationFailed.field("selection.filter", str(exc).splitlines()[0]) from exc
    items = await by_filter(criteria)
    return [item.id for item in items], {item.id: item for item in items}
