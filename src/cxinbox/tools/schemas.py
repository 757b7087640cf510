from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, UtcDatetime, examples
from cxinbox.models.tools import AuthType
from cxinbox.tools import paths

TOOL_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
#: headers a template may not set: the transport's own, and credentials (they belong in ``secrets``)
FORBIDDEN_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "authorization",
        "proxy-authorization",
        "cookie",
    }
)
MAX_HEADERS = 20
METHODS = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http or https URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials (use authType and secrets)")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    if "{" in parts.netloc or "}" in parts.netloc:
        raise ValueError("must not have variables in its host")
    return value.strip().rstrip("/")


def _header_names(headers: dict[str, str]) -> dict[str, str]:
    if len(headers) > MAX_HEADERS:
        raise ValueError(f"at most {MAX_HEADERS} headers")
    for name in headers:
        if not _HEADER_NAME.match(name):
            raise ValueError(f"{name[:100]!r} is not a header name")
        if name.lower() in FORBIDDEN_HEADERS:
            raise ValueError(f"{name} cannot be set here (credentials go in secrets)")
    return headers


def _dot_path(value: str) -> str:
    if not paths.is_valid_path(value):
        raise ValueError("must be a dot path such as data.accounts[0].name")
    return value


BaseUrl = Annotated[
    str,
    Field(min_length=1, max_length=2048, description="`https://api.example.com/v1` (no query string)"),
    AfterValidator(_base_url),
]
Headers = Annotated[
    dict[str, Annotated[str, Field(max_length=1000)]],
    Field(description="Headers sent with every request (not secret: shown as they are)"),
    AfterValidator(_header_names),
]
DotPath = Annotated[str, Field(max_length=256), AfterValidator(_dot_path)]
Secrets = Annotated[
    dict[Literal["apiKey", "token", "username", "password"], Annotated[str, Field(max_length=4096)] | None],
    Field(
        description="By authType: API_KEY_HEADER/API_KEY_QUERY `apiKey`, BEARER `token`, BASIC `username` "
        "and `password`. On update a name left out (or sent masked, as a read shows it) keeps its value, "
        "`null` removes it."
    ),
]
QueryParam = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.~-]+$")]
HeaderName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")]


class EndpointIn(RequestModel):
    """Where requests go and how they authenticate (a connection's fields, the integration's too)."""

    base_url: BaseUrl
    auth_type: AuthType = AuthType.NONE
    header_name: HeaderName | None = Field(default=None, description="API_KEY_HEADER's header (X-API-Key)")
    query_param: QueryParam | None = Field(default=None, description="API_KEY_QUERY's parameter (api_key)")
    headers: Headers = Field(default_factory=dict)
    secrets: Secrets = Field(default_factory=dict)
    timeout_ms: int = Field(default=10_000, ge=100, le=30_000)


class EndpointOut(ApiModel):
    base_url: str
    auth_type: AuthType
    header_name: str | None
    query_param: str | None
    headers: dict[str, str]
    secrets: dict[str, str | None] = Field(description="Masked: `••••••••` and the last 4 characters")
    timeout_ms: int


class ConnectionIn(EndpointIn):
    model_config = examples(
        {
            "name": "Orders API",
            "baseUrl": "https://api.example.com/v1",
            "authType": "BEARER",
            "secrets": {"token": "sk_live_…"},
            "timeoutMs": 10000,
        }
    )
    name: Annotated[str, Field(min_length=1, max_length=100), NonBlank]
    is_active: bool = True


class ConnectionOut(EndpointOut):
    id: str
    name: str
    is_active: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class SecretsOut(ApiModel):
    secrets: dict[str, str]


class ConnectionTest(RequestModel):
    method: METHODS = "GET"
    path: str = Field(
        default="", max_length=2048, description="After the base URL; `{{name}}` takes `variables.name`"
    )
    variables: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class CallReport(ApiModel):
    ok: bool
    status: int | None = Field(description="The remote's HTTP status; empty when it did not answer")
    latency_ms: int
    body_preview: str = Field(description="The start of the answer (at most 4 KB), credentials redacted")
    error: str | None = Field(default=None, description="Why there is no usable answer")


class ToolIn(RequestModel):
    model_config = examples(
        {
            "name": "order_status",
            "description": "Look up an order's status by its number",
            "parameters": {
                "type": "object",
                "properties": {"orderId": {"type": "string", "description": "The order number"}},
                "required": ["orderId"],
            },
            "connectionId": "01a24ddb-6b0d-719d-a033-02bcfc055c30",
            "method": "GET",
            "path": "/orders/{{params.orderId}}",
            "resultPath": "data.status",
            "availableToAgents": True,
        }
    )
    name: Annotated[str, Field(pattern=TOOL_NAME_PATTERN, description="The function name the LLM sees")]
    description: Annotated[str, Field(min_length=1, max_length=2000), NonBlank]
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description='JSON Schema of the arguments (`"type": "object"`)',
    )
    connection_id: str | None = Field(default=None, max_length=36)
    method: METHODS = "GET"
    path: str | None = Field(
        default=None,
        max_length=2048,
        description="After the connection's base URL, e.g. `/orders/{{params.orderId}}`: each value is "
        "percent-encoded where it lands",
    )
    url: str | None = Field(
        default=None, max_length=2048, description="An absolute URL, for a tool without a connection"
    )
    headers: Headers = Field(default_factory=dict)
    query: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=dict, description="Query parameters (templates)"
    )
    body: Any = Field(
        default=None,
        description='JSON body template: `"{{params.qty}}"` alone is the value itself (a number stays '
        "a number); inside a longer string it is text",
    )
    result_path: DotPath | None = Field(default=None, description="What the model sees of the answer")
    is_active: bool = True
    available_to_bot: bool = True
    available_to_agents: bool = False
    changes_data: bool = Field(
        default=False, description="It changes something (the bot runs it only in an unflagged turn)"
    )

    @model_validator(mode="after")
    def _one_target(self) -> ToolIn:
        if self.connection_id is None and not self.url:
            raise ValueError("give connectionId (with path) or an absolute url")
        if self.connection_id is not None and self.url:
            raise ValueError("give connectionId or url, not both")
        if self.url:
            _base_url(self.url.split("?", 1)[0])
        return self


class ToolOut(ApiModel):
    id: str
    name: str
    description: str
    parameters: dict[str, Any]
    connection_id: str | None
    method: str
    path: str | None
    url: str | None
    headers: dict[str, str]
    query: dict[str, str]
    body: Any
    result_path: str | None
    is_active: bool
    available_to_bot: bool
    available_to_agents: bool
    changes_data: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ToolTest(RequestModel):
    params: dict[str, Any] = Field(default_factory=dict, description="Example arguments")


class ToolOutcomeOut(ApiModel):
    ok: bool
    status: int | None
    result: Any = Field(description="The answer at `resultPath`, cut to 8000 characters")
    truncated: bool
    latency_ms: int
    error: str | None


class AgentToolOut(ApiModel):
    id: str
    name: str
    description: str
    parameters: dict[str, Any]
    changes_data: bool


class ExecuteTool(RequestModel):
    model_config = examples(
        {"toolId": "01a24ddb-…", "params": {"orderId": "A-1001"}, "conversationId": "01a2…"}
    )
    tool_id: str = Field(max_length=36)
    params: dict[str, Any] = Field(default_factory=dict)
    conversation_id: str = Field(max_length=36)


class ExtractParams(RequestModel):
    tool_id: str = Field(max_length=36)
    conversation_id: str = Field(max_length=36)


class ExtractedParams(ApiModel):
    params: dict[str, Any] = Field(description="The values read from the conversation that fit the schema")
    missing: list[str] = Field(description="Required parameters the conversation does not give")


class IntegrationIn(EndpointIn):
    model_config = examples(
        {
            "baseUrl": "https://crm.example.com/api",
            "lookupPath": "/customers?phone={{phone}}",
            "authType": "API_KEY_HEADER",
            "secrets": {"apiKey": "…"},
            "resultPath": "data[0]",
            "fieldMapping": {"name": "fullName", "balance": "account.balance"},
            "cacheTtlSeconds": 300,
        }
    )
    lookup_path: str = Field(
        min_length=1,
        max_length=2048,
        description="After the base URL, with `{{phone}}` (last 10 digits), `{{countryCode}}` and "
        "`{{fullPhone}}` (country code and the 10 digits)",
    )
    result_path: DotPath | None = Field(default=None, description="Where the account is in the answer")
    field_mapping: dict[Annotated[str, Field(max_length=64)], DotPath] = Field(
        default_factory=dict, description="Output field → dot path inside the account (all of it when empty)"
    )
    cache_ttl_seconds: int = Field(default=300, ge=0, le=86_400)
    default_country_code: str = Field(default="52", pattern=r"^[1-9][0-9]{0,2}$")
    is_enabled: bool = True


class IntegrationOut(EndpointOut):
    id: str
    lookup_path: str
    result_path: str | None
    field_mapping: dict[str, str]
    cache_ttl_seconds: int
    default_country_code: str
    is_enabled: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class IntegrationTest(RequestModel):
    phone: str = Field(min_length=1, max_length=32)


class Lookup(ApiModel):
    found: bool
    phone: str = Field(description="The number looked up: its last 10 digits")
    data: Any = Field(default=None, description="The account's mapped fields")
    cached: bool = False
    fetched_at: UtcDatetime | None = None


class IntegrationTestOut(CallReport):
    found: bool
    data: Any = None
