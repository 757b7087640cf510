"""Wire models of ``/bot-config`` and its intents, tests and usage."""

from __future__ import annotations

import re
from typing import Annotated

import httpx
from pydantic import AfterValidator, Field

from cxinbox.adapters.llm.registry import Provider
from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, UtcDatetime, examples
from cxinbox.models.bot import BotMode, IntentAction

_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$")
#: what a masked key looks like on the wire; sending it back leaves the stored key as it is
MASK = "••••••••"


def _model(value: str) -> str:
    value = value.strip()
    if not _MODEL.match(value):
        raise ValueError("must be a model name: letters, digits and . _ : / @ + - (at most 128)")
    return value


def _http_url(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError("must be an http:// or https:// URL") from exc
    if url.scheme not in ("http", "https") or not url.host or url.userinfo:
        raise ValueError("must be an http:// or https:// URL without credentials")
    return value.rstrip("/")


def wire_name(body: RequestModel, field: str) -> str:
    """The camelCase name of ``field`` (for a validation error's ``details``)."""
    return type(body).model_fields[field].alias or field


Name = Annotated[str, Field(min_length=1, max_length=100), NonBlank]
ModelName = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_model)]
HttpUrl = Annotated[
    str | None,
    Field(max_length=500, description="An http(s) URL; null or empty clears it"),
    AfterValidator(_http_url),
]
Secret = Annotated[str | None, Field(max_length=500)]
SystemPrompt = Annotated[str, Field(max_length=20_000)]
Temperature = Annotated[float, Field(ge=0, le=2)]
MaxTokens = Annotated[int, Field(ge=1, le=32_000)]
Debounce = Annotated[int, Field(ge=0, le=30)]


class Category(ApiModel):
    name: Annotated[str, Field(min_length=1, max_length=64), NonBlank]
    description: Annotated[str, Field(max_length=500)] = ""


Categories = Annotated[list[Category], Field(max_length=50)]


class BotConfigFields(RequestModel):
    """The settable fields of a config; each one left out is left as it is."""

    provider: Provider | None = None
    model: ModelName | None = None
    api_key: Secret = Field(
        default=None,
        description="The provider's key: stored encrypted, shown masked. Null or empty clears it; the "
        "masked value sent back leaves it as it is",
    )
    base_url: HttpUrl = Field(
        default=None,
        description="Overrides the provider's API base (required for LOCAL: an OpenAI-compatible server, "
        "ending in `/v1`)",
    )
    system_prompt: SystemPrompt | None = None
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None
    mode: BotMode | None = Field(default=None, description="Addition: LLM (default) or N8N")
    n8n_webhook_url: HttpUrl = Field(
        default=None, alias="n8nWebhookUrl", description="Addition: where N8N mode posts a turn"
    )
    n8n_secret: Secret = Field(
        default=None, alias="n8nSecret", description="Addition: signs the N8N calls (stored encrypted)"
    )
    categories: Categories | None = Field(
        default=None, description="Addition: what classification picks from, `[{name, description}]`"
    )
    debounce_seconds: Debounce | None = Field(
        default=None, description="Addition: the quiet window that makes a burst of messages one turn (0-30)"
    )
    handoff_on_injection: bool | None = Field(
        default=None,
        description="Addition: hand the conversation to a human when the customer's text is flagged as "
        "prompt injection (else the turn runs without tools)",
    )


class CreateBotConfig(BotConfigFields):
    model_config = examples({"name": "Support bot"})
    name: Name


class UpsertBotConfig(BotConfigFields):
    id: str | None = Field(
        default=None, max_length=36, description="The config to update (else the active one)"
    )
    name: Name | None = None


class DuplicateBotConfig(RequestModel):
    name: Name | None = None


class BotConfigOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24ddb-6b0d-719d-a033-02bcfc055c30",
            "name": "Support bot",
            "provider": "OPENAI",
            "model": "gpt-4o-mini",
            "apiKey": "••••••••abcd",
            "baseUrl": None,
            "systemPrompt": "Eres el asistente de ENI Networks.",
            "temperature": 0.7,
            "maxTokens": 500,
            "isActive": True,
            "mode": "LLM",
            "n8nWebhookUrl": None,
            "hasN8nSecret": False,
            "categories": [{"name": "Ventas", "description": "Quiere comprar"}],
            "debounceSeconds": 2,
            "handoffOnInjection": False,
            "createdAt": "2026-12-07T09:15:55.150014Z",
            "updatedAt": "2026-12-07T09:15:55.150022Z",
        }
    )
    id: str
    name: str
    provider: Provider
    model: str
    api_key: str | None = Field(description="Masked: the last four characters at most")
    base_url: str | None
    system_prompt: str
    temperature: float
    max_tokens: int
    is_active: bool
    mode: BotMode
    n8n_webhook_url: str | None = Field(alias="n8nWebhookUrl")
    has_n8n_secret: bool = Field(alias="hasN8nSecret")
    categories: list[Category]
    debounce_seconds: int
    handoff_on_injection: bool = Field(description="Addition: see the field of the same name in PUT")
    created_at: UtcDatetime
    updated_at: UtcDatetime


class RevealedKey(ApiModel):
    api_key: str | None


class TestMessage(RequestModel):
    message: Annotated[str, Field(min_length=1, max_length=4000), NonBlank]
    bot_config_id: str | None = Field(
        default=None, max_length=36, description="Addition: test this config (else the active one)"
    )


class SandboxMessage(TestMessage):
    session_id: str | None = Field(default=None, max_length=36, description="Continue this sandbox session")
    reset: bool = Field(default=False, description="Start the session over")
    execute_tools: bool = Field(
        default=False, description="Addition: call the tools the turn uses (else a dry run that calls none)"
    )


class TokenUsage(ApiModel):
    input_tokens: int
    output_tokens: int


class TestReply(ApiModel):
    reply: str
    usage: TokenUsage
    latency_ms: int


class SandboxAction(ApiModel):
    type: str = Field(description="INTENT, TOOL, SCREENING or HANDOFF")
    name: str | None = None
    detail: str | None = None


class SandboxReply(TestReply):
    session_id: str
    actions: list[SandboxAction]
    handoff: bool
    trace_id: str | None = Field(description="The turn's stored trace")


class ValidateKey(RequestModel):
    model_config = examples({"provider": "OPENAI", "apiKey": "sk-…", "model": "gpt-4o-mini"})
    provider: Provider
    api_key: Annotated[str, Field(max_length=500)] = ""
    model: ModelName
    base_url: HttpUrl = Field(default=None, description="Addition: for LOCAL or another base")


class KeyValidity(ApiModel):
    valid: bool
    reason: str | None = Field(description="Why not: LLM_AUTH, LLM_RATE_LIMITED, LLM_UNAVAILABLE, …")
    message: str | None = None


class ModelOut(ApiModel):
    id: str
    name: str


class UsageOut(ApiModel):
    period: str = Field(description="YYYY-MM (UTC)")
    bot_replies: int
    limit: int | None = Field(description="Replies the plan allows per month (null: unlimited)")
    remaining: int | None
    input_tokens: int
    output_tokens: int


class IntentFields(RequestModel):
    description: Annotated[str, Field(max_length=2000)] | None = None
    examples: (
        Annotated[list[Annotated[str, Field(min_length=1, max_length=500)]], Field(max_length=100)] | None
    ) = None
    action: IntentAction | None = None
    response: Annotated[str, Field(max_length=4096)] | None = None
    media_ids: Annotated[list[Annotated[str, Field(max_length=36)]], Field(max_length=10)] | None = None
    tool_id: Annotated[str, Field(max_length=36)] | None = None
    handoff_team_id: Annotated[str, Field(max_length=36)] | None = None
    is_active: bool | None = None


class CreateIntent(IntentFields):
    name: Name


class UpdateIntent(IntentFields):
    name: Name | None = None


class ReorderIntents(RequestModel):
    ids: Annotated[list[Annotated[str, Field(max_length=36)]], Field(max_length=500)] = Field(
        default_factory=list, description="The intents in their new order; those left out follow"
    )


class IntentOut(ApiModel):
    id: str
    bot_config_id: str
    name: str
    description: str | None
    examples: list[str]
    action: IntentAction
    response: str | None
    media_ids: list[str]
    tool_id: str | None
    handoff_team_id: str | None
    is_active: bool
    order: int
    created_at: UtcDatetime
    updated_at: UtcDatetime
