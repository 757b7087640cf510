"""The wire format: camelCase models and the ``{"data": …, "meta": …}`` envelopes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, field_validator
from pydantic.alias_generators import to_camel

from cxinbox.core.clock import as_utc
from cxinbox.core.validation import check_value

T = TypeVar("T")


def iso_utc(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


#: Datetimes on the wire are ISO 8601 in UTC with a ``Z`` suffix.
UtcDatetime = Annotated[datetime, PlainSerializer(iso_utc, return_type=str, when_used="json")]


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


#: for ``Annotated[str, …, NonBlank]``: surrounding whitespace trimmed, and not blank
NonBlank = AfterValidator(_stripped)


class ApiModel(BaseModel):
    """Base of every request and response body: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class _Examples:
    """``json_schema_extra`` that adds examples to the models they fit (see ``examples``)."""

    def __init__(self, values: tuple[dict[str, Any], ...]) -> None:
        self.values = list(values)

    def fit(self, model: type[BaseModel]) -> bool:
        fields = model.model_fields.items()
        names = {field.alias or name for name, field in fields}
        required = {field.alias or name for name, field in fields if field.is_required()}
        return all(required <= value.keys() <= names for value in self.values)

    def __call__(self, schema: dict[str, Any], model: type[BaseModel]) -> None:
        if self.fit(model):
            schema["examples"] = self.values


def examples(*values: dict[str, Any]) -> ConfigDict:
    """A ``model_config`` that shows ``values`` (bodies as on the wire, camelCase) as the model's
    examples in the OpenAPI document.

    Config is inherited, but a subclass's body differs: the examples are shown only on a model that
    has every field they name and whose required fields they all name, so a subclass that adds a
    required field (``ConversationDetail`` of ``ConversationOut``) shows none rather than a wrong one.
    """
    return ConfigDict(json_schema_extra=_Examples(values))


def examples_of(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The examples ``model`` shows (none when it declares or inherits none that fit it)."""
    extra = model.model_config.get("json_schema_extra")
    return extra.values if isinstance(extra, _Examples) and extra.fit(model) else []


class RequestModel(ApiModel):
    """Request bodies: unknown fields are ignored, so clients of a newer contract keep working.

    Every field, of every subclass, is checked by ``core.validation.check_value`` (no control
    characters in text, 64-bit integers, datetimes in range and in UTC), nested values included.
    """

    model_config = ConfigDict(extra="ignore")
    #: ``check_value`` skips a nested request model: its own validators checked it already
    checked_when_validated: ClassVar[bool] = True

    @field_validator("*", mode="after")
    @classmethod
    def _checked(cls, value: Any) -> Any:
        return check_value(value)


class Envelope(ApiModel, Generic[T]):
    data: T


class PageMeta(ApiModel):
    page: int
    limit: int
    total: int
    total_pages: int


class PageEnvelope(ApiModel, Generic[T]):
    data: list[T]
    meta: PageMeta


class PageSizeMeta(ApiModel):
    """The meta of page lists whose reference names the page size ``pageSize``."""

    page: int
    page_size: int
    total: int
    total_pages: int


class PageSizeEnvelope(ApiModel, Generic[T]):
    data: list[T]
    meta: PageSizeMeta


class CursorMeta(ApiModel):
    next_cursor: str | None
    has_more: bool


class CursorEnvelope(ApiModel, Generic[T]):
    data: list[T]
    meta: CursorMeta


class Deleted(ApiModel):
    id: str
    deleted: bool = True
