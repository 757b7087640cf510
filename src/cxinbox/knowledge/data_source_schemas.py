from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, examples
from cxinbox.tools.schemas import METHODS, DotPath, Headers

MAX_FIELDS = 30
Status = Literal["OK", "NOT_FOUND", "ERROR"]
MAX_CACHE_TTL_SECONDS = 86_400


class FieldSpec(RequestModel):
    label: Annotated[str, Field(min_length=1, max_length=100), NonBlank]
    path: DotPath = Field(description="A dot path with indices into the answer: `data.accounts[0].name`")


class DataSourceIn(RequestModel):
    model_config = examples(
        {
            "name": "Cuenta del cliente",
            "connectionId": "01a24ddb-6b0d-719d-a033-02bcfc055c30",
            "method": "GET",
            "path": "/customers?phone={{phone10}}",
            "fields": [
                {"label": "Cliente", "path": "data.accounts[0].name"},
                {"label": "Saldo", "path": "data.accounts[0].balance"},
            ],
            "cacheTtlSeconds": 300,
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=100), NonBlank]
    connection_id: str = Field(max_length=36, description="The connection it calls (with its credentials)")
    method: METHODS = "GET"
    path: str = Field(
        default="",
        max_length=2048,
        description="After the connection's base URL; variables `{{phone}}` (digits with the country "
        "code), `{{phone10}}` (the last 10 digits), `{{phoneE164}}`, `{{waId}}`, `{{contact.name}}`, "
        "each percent-encoded where it lands",
    )
    query: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=dict, description="Query parameters (templates)"
    )
    headers: Headers = Field(default_factory=dict)
    body: Any = Field(default=None, description="JSON body template (not sent with GET)")
    fields: Annotated[list[FieldSpec], Field(min_length=1, max_length=MAX_FIELDS)] = Field(
        description="What is shown: `[{label, path}]`"
    )
    cache_ttl_seconds: int = Field(
        default=300, ge=0, le=MAX_CACHE_TTL_SECONDS, description="How long an answer is reused (0: never)"
    )
    is_active: bool = True
    order: int = Field(default=0, ge=0, le=10_000, description="Where it is shown (lowest first)")


class DataSourceOut(ApiModel):
    id: str
    name: str
    connection_id: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    fields: list[dict[str, str]]
    cache_ttl_seconds: int
    is_active: bool
    order: int
    created_at: datetime
    updated_at: datetime


class DataSourceTest(RequestModel):
    model_config = examples({"phone": "+52 55 1234 5678"})

    phone: Annotated[str, Field(min_length=1, max_length=32), NonBlank] = Field(
        description="10 digits, or a full number with its country code"
    )


class FieldValue(ApiModel):
    label: str
    value: Any = Field(description="Null where the answer has nothing at the field's path")


class SourceData(ApiModel):
    data_source_id: str
    name: str
    status: Status = Field(
        description="OK: the service answered with at least one field; NOT_FOUND: it answered 404 or "
        "none of the fields; ERROR: it failed (or the contact has no usable number)"
    )
    fields: list[FieldValue]
    fetched_at: datetime | None
    cached: bool
    error: str | None = Field(default=None, description="Addition: why it is ERROR")


class SourceTestOut(SourceData):
    http_status: int | None = Field(description="The service's HTTP status (null when it did not answer)")
    latency_ms: int
