"""What every provider adapter speaks: messages in, a completion (text, tool calls, tokens) out, and
typed failures that say whether a later attempt may succeed.

Each adapter is a thin client of its provider's HTTP API over the outbound guard (``core.outbound``):
no private addresses unless allowed, redirects re-checked, time and size capped, on every call, which
a provider SDK's own HTTP client would bypass. A call goes through the event loop's shared client
(``shared_client``, the guard on aiohttp), whose connections stay alive between calls (a new client
per call was a new connection, and a TLS handshake, for every turn); a streamed answer through a
client of its own (``OutboundClient.stream``). A failure never carries the API key, and a provider's
message is cut short before it reaches a log or an answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from cxinbox.core.outbound import (
    DestinationRefused,
    OutboundClient,
    OutboundError,
    StreamedResponse,
    shared_client,
)

Role = Literal["user", "assistant"]
#: JSON answers of a provider are small; anything larger is not one
MAX_ANSWER_BYTES = 2 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 30.0
_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    #: the provider declined to answer (a refusal or its content filter)
    refused: bool = False


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    system: str | None
    messages: list[ChatMessage]
    temperature: float | None = None
    max_tokens: int | None = None
    tools: list[ToolSpec] = field(default_factory=list)


@dataclass(frozen=True)
class Endpoint:
    """Where and with what a provider is called."""

    base_url: str
    api_key: str | None
    allow_private: bool
    timeout: float = DEFAULT_TIMEOUT_SECONDS


class LlmError(Exception):
    """A call that gave no completion. ``reason`` is a stable code; ``retryable``: a later attempt may
    succeed."""

    reason = "LLM_ERROR"
    retryable = False

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message[:_MESSAGE_CHARS])
        self.retry_after = retry_after


class LlmAuthFailed(LlmError):
    """The provider refused the key (OpenAI and Anthropic 401, Gemini 400 ``API_KEY_INVALID``)."""

    reason = "LLM_AUTH"


class LlmRateLimited(LlmError):
    reason = "LLM_RATE_LIMITED"
    retryable = True


class LlmUnavailable(LlmError):
    """A 5xx, an overload, a timeout or a connection failure."""

    reason = "LLM_UNAVAILABLE"
    retryable = True


class LlmRejected(LlmError):
    """The provider refused the request itself (an unknown model, a bad parameter)."""

    reason = "LLM_REJECTED"


class LlmDestinationRefused(LlmError):
    """The base URL is not allowed (a private address while the switch is off, not http(s))."""

    reason = "DESTINATION_REFUSED"


#: what a stream yields: pieces of text as they come, then the call's tokens (once, last)
Chunk = str | Usage


class ProviderAdapter(Protocol):
    """One wire format."""

    async def complete(self, endpoint: Endpoint, request: CompletionRequest) -> Completion: ...

    def stream(self, endpoint: Endpoint, request: CompletionRequest) -> AsyncIterator[Chunk]:
        """The answer's text as the provider streams it (tools are not offered)."""
        ...

    async def list_models(self, endpoint: Endpoint) -> list[tuple[str, str]]:
        """The provider's live list of ``(id, name)``."""
        ...


async def call(
    endpoint: Endpoint,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    auth_failed: Any = None,
    **kwargs: Any,
) -> Any:
    """Send one request through the guard and answer its JSON body, or raise the typed failure.

    ``auth_failed(status, body)`` lets an adapter recognise its provider's own way of saying "bad key"
    beyond a 401/403.
    """
    http = shared_client(allow_private=endpoint.allow_private)  # connections kept alive between calls
    try:
        response = await http.request(
            method, url, headers=headers, max_bytes=MAX_ANSWER_BYTES, timeout=endpoint.timeout, **kwargs
        )
    except DestinationRefused as exc:
        raise LlmDestinationRefused(str(exc)) from exc
    except OutboundError as exc:
        raise LlmUnavailable(str(exc)) from exc
    body = _json_or_none(response.body)
    if response.is_success:
        if body is None:
            raise LlmUnavailable("the provider's answer is not JSON")
        return body
    raise _failure(response.status, response.headers, body, auth_failed, endpoint.api_key)


@asynccontextmanager
async def open_stream(
    endpoint: Endpoint, url: str, *, headers: dict[str, str], body: Any, auth_failed: Any = None
) -> AsyncIterator[StreamedResponse]:
    """POST through the guard for a streamed answer; a refusal is raised before any byte is yielded."""
    try:
        async with (
            OutboundClient(allow_private=endpoint.allow_private, timeout=endpoint.timeout) as http,
            http.stream("POST", url, headers=headers, json=body, max_bytes=MAX_ANSWER_BYTES) as response,
        ):
            if not 200 <= response.status_code < 300:
                said = _json_or_none(await response.read())
                raise _failure(response.status_code, response.headers, said, auth_failed, endpoint.api_key)
            yield response
    except DestinationRefused as exc:
        raise LlmDestinationRefused(str(exc)) from exc
    except OutboundError as exc:
        raise LlmUnavailable(str(exc)) from exc


async def sse_data(response: StreamedResponse) -> AsyncIterator[Any]:
    """The JSON of each ``data:`` line of a server-sent event stream (``[DONE]`` ends it)."""
    async for line in response.lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except ValueError:
            continue


def _failure(
    status: int, headers: Mapping[str, str], body: Any, auth_failed: Any, api_key: str | None
) -> LlmError:
    said = error_message(body)
    if api_key and len(api_key) >= 4:
        said = said.replace(api_key, "[key]")  # a provider may echo the key it refused
    message = f"the provider answered {status}: {said}"
    if status in (401, 403) or (auth_failed is not None and auth_failed(status, body)):
        return LlmAuthFailed(message)
    if status == 429:
        return LlmRateLimited(message, retry_after=retry_after(headers))
    if status >= 500 or status == 408:
        return LlmUnavailable(message, retry_after=retry_after(headers))
    return LlmRejected(message)


def error_message(body: Any) -> str:
    """The provider's own words, from ``{"error": {"message": …}}`` (every format here uses it)."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"][:_MESSAGE_CHARS]
        if isinstance(error, str):
            return error[:_MESSAGE_CHARS]
    return "no details"


def retry_after(headers: Mapping[str, str]) -> int | None:
    value = headers.get("retry-after", "")
    try:
        return max(1, round(float(value)))
    except ValueError:
        return None


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def join(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def as_int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
