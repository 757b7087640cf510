"""The Anthropic Messages format: ``POST {base}/v1/messages`` with ``x-api-key`` and
``anthropic-version``; ``GET {base}/v1/models`` lists models. The base is the SDK's, without ``/v1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cxinbox.adapters.llm.base import (
    Completion,
    CompletionRequest,
    Endpoint,
    ToolCall,
    Usage,
    as_int,
    call,
    join,
)

API_VERSION = "2023-06-01"
#: Messages requires a cap on the answer
DEFAULT_MAX_TOKENS = 1024


@dataclass(frozen=True)
class AnthropicMessages:
    async def complete(self, endpoint: Endpoint, request: CompletionRequest) -> Completion:
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
        answer = await call(
            endpoint, "POST", join(endpoint.base_url, "v1/messages"), headers=_headers(endpoint), json=body
        )
        return _completion(answer)

    async def list_models(self, endpoint: Endpoint) -> list[tuple[str, str]]:
        answer = await call(endpoint, "GET", join(endpoint.base_url, "v1/models"), headers=_headers(endpoint))
        rows = answer.get("data") if isinstance(answer, dict) else None
        return [
            (m["id"], str(m.get("display_name") or m["id"]))
            for m in rows or []
            if isinstance(m, dict) and isinstance(m.get("id"), str)
        ]


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
