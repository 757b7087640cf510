"""The Anthropic Messages format: ``POST {base}/v1/messages`` with ``x-api-key`` and
``anthropic-version``; ``GET {base}/v1/models`` lists models. The base is the SDK's, without ``/v1``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from cxinbox.adapters.llm.base import (
    Chunk,
    Completion,
    CompletionRequest,
    Endpoint,
    LlmUnavailable,
    ToolCall,
    Usage,
    as_int,
    call,
    error_message,
    join,
    open_stream,
    sse_data,
)

API_VERSION = "2023-06-01"
#: Messages requires a cap on the answer
DEFAULT_MAX_TOKENS = 1024


@dataclass(frozen=True)
class AnthropicMessages:
    async def complete(self, endpoint: Endpoint, request: CompletionRequest) -> Completion:
        url = join(endpoint.base_url, "v1/messages")
        answer = await call(endpoint, "POST", url, headers=_headers(endpoint), json=_body(request))
        return _completion(answer)

    async def stream(self, endpoint: Endpoint, request: CompletionRequest) -> AsyncIterator[Chunk]:
        """Events ``message_start`` (input tokens), ``content_block_delta`` (text),
        ``message_delta`` (output tokens), and ``error`` (an overload mid-stream)."""
        url = join(endpoint.base_url, "v1/messages")
        body = {**_body(request), "stream": True}
        input_tokens = output_tokens = 0
        async with open_stream(endpoint, url, headers=_headers(endpoint), body=body) as response:
            async for event in sse_data(response):
                kind = event.get("type") if isinstance(event, dict) else None
                if kind == "message_start":
                    input_tokens = as_int(
                        ((event.get("message") or {}).get("usage") or {}).get("input_tokens")
                    )
                elif kind == "content_block_delta":
                    text = (event.get("delta") or {}).get("text")
                    if isinstance(text, str) and text:
                        yield text
                elif kind == "message_delta":
                    output_tokens = as_int((event.get("usage") or {}).get("output_tokens"))
                elif kind == "error":
                    raise LlmUnavailable(f"the stream failed: {error_message(event)}")
        yield Usage(input_tokens, output_tokens)

    async def list_models(self, endpoint: Endpoint) -> list[tuple[str, str]]:
        answer = await call(endpoint, "GET", join(endpoint.base_url, "v1/models"), headers=_headers(endpoint))
        rows = answer.get("data") if isinstance(answer, dict) else None
        return [
            (m["id"], str(m.get("display_name") or m["id"]))
            for m in rows or []
            if isinstance(m, dict) and isinstance(m.get("id"), str)
        ]


def _body(request: CompletionRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
    }
    if request.system:
        body["system"] = request.system
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    return body


def _headers(endpoint: Endpoint) -> dict[str, str]:
    headers = {"anthropic-version": API_VERSION}
    if endpoint.api_key:
        headers["x-api-key"] = endpoint.api_key
    return headers


def _completion(answer: Any) -> Completion:
    blocks = answer.get("content") if isinstance(answer, dict) else None
    text: list[str] = []
    calls: list[ToolCall] = []
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            text.append(block["text"])
        elif block.get("type") == "tool_use" and isinstance(block.get("name"), str):
            arguments = block.get("input")
            calls.append(ToolCall(block["name"], arguments if isinstance(arguments, dict) else {}))
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    return Completion(
        text="".join(text),
        tool_calls=calls,
        usage=Usage(as_int(usage.get("input_tokens")), as_int(usage.get("output_tokens"))),
        refused=answer.get("stop_reason") == "refusal",
    )
