"""The OpenAI Chat Completions format: OPENAI, and the compatible DEEPSEEK, KIMI and LOCAL servers.

``POST {base}/chat/completions`` with ``Authorization: Bearer``; ``GET {base}/models`` lists models.
Bases end in ``/v1`` as the SDKs take them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from cxinbox.adapters.llm.base import (
    Chunk,
    Completion,
    CompletionRequest,
    Endpoint,
    ToolCall,
    Usage,
    as_int,
    call,
    join,
    open_stream,
    sse_data,
)

#: ``finish_reason`` of a completion the provider's filter stopped
_FILTERED = "content_filter"


@dataclass(frozen=True)
class OpenAIChat:
    #: OpenAI's own API names the cap ``max_completion_tokens``; compatible servers know ``max_tokens``
    max_tokens_field: str = "max_tokens"

    async def complete(self, endpoint: Endpoint, request: CompletionRequest) -> Completion:
        url = join(endpoint.base_url, "chat/completions")
        answer = await call(endpoint, "POST", url, headers=_headers(endpoint), json=self._body(request))
        return _completion(answer)

    async def stream(self, endpoint: Endpoint, request: CompletionRequest) -> AsyncIterator[Chunk]:
        body = {**self._body(request), "stream": True, "stream_options": {"include_usage": True}}
        url = join(endpoint.base_url, "chat/completions")
        usage = Usage()
        async with open_stream(endpoint, url, headers=_headers(endpoint), body=body) as response:
            async for event in sse_data(response):
                if not isinstance(event, dict):
                    continue
                for choice in event.get("choices") or []:
                    delta = choice.get("delta") if isinstance(choice, dict) else None
                    if isinstance(delta, dict) and isinstance(delta.get("content"), str) and delta["content"]:
                        yield delta["content"]
                counted = event.get("usage")
                if isinstance(counted, dict):
                    usage = Usage(
                        as_int(counted.get("prompt_tokens")), as_int(counted.get("completion_tokens"))
                    )
        yield usage

    def _body(self, request: CompletionRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        body: dict[str, Any] = {"model": request.model, "messages": messages}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body[self.max_tokens_field] = request.max_tokens
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in request.tools
            ]
        return body

    async def list_models(self, endpoint: Endpoint) -> list[tuple[str, str]]:
        answer = await call(endpoint, "GET", join(endpoint.base_url, "models"), headers=_headers(endpoint))
        rows = answer.get("data") if isinstance(answer, dict) else None
        return [
            (m["id"], m["id"]) for m in rows or [] if isinstance(m, dict) and isinstance(m.get("id"), str)
        ]


def _headers(endpoint: Endpoint) -> dict[str, str]:
    return {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}


def _completion(answer: Any) -> Completion:
    choices = answer.get("choices") if isinstance(answer, dict) else None
    choice: dict[str, Any] = (
        choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    )
    raw_message = choice.get("message")
    message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
    content = message.get("content")
    calls = [_tool_call(c) for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    raw_usage = answer.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    return Completion(
        text=content if isinstance(content, str) else "",
        tool_calls=[c for c in calls if c is not None],
        usage=Usage(as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens"))),
        refused=choice.get("finish_reason") == _FILTERED or bool(message.get("refusal")),
    )


def _tool_call(raw: dict[str, Any]) -> ToolCall | None:
    function = raw.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        return None
    try:
        arguments = json.loads(function.get("arguments") or "{}")
    except ValueError:
        arguments = {}
    return ToolCall(function["name"], arguments if isinstance(arguments, dict) else {})
