"""The Gemini API format: ``POST {base}/v1beta/models/{model}:generateContent`` with
``x-goog-api-key``; ``GET {base}/v1beta/models`` lists models. A bad key is a 400 whose error names
the reason ``API_KEY_INVALID``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from cxinbox.adapters.llm.base import (
    Chunk,
    Completion,
    CompletionRequest,
    Endpoint,
    LlmRejected,
    ToolCall,
    Usage,
    as_int,
    call,
    join,
    open_stream,
    sse_data,
)

API_VERSION = "v1beta"
#: a model id goes into the path: nothing but a model name's characters
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
#: finish reasons (and prompt block reasons) of an answer a filter stopped
_BLOCKED = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "OTHER"})


@dataclass(frozen=True)
class GoogleGenerate:
    async def complete(self, endpoint: Endpoint, request: CompletionRequest) -> Completion:
        url = join(endpoint.base_url, f"{API_VERSION}/models/{_model(request)}:generateContent")
        answer = await call(
            endpoint, "POST", url, headers=_headers(endpoint), json=_body(request), auth_failed=_bad_key
        )
        return _completion(answer)

    async def stream(self, endpoint: Endpoint, request: CompletionRequest) -> AsyncIterator[Chunk]:
        """``streamGenerateContent?alt=sse``: each event is a partial answer; the last counts the tokens."""
        url = join(endpoint.base_url, f"{API_VERSION}/models/{_model(request)}:streamGenerateContent?alt=sse")
        usage = Usage()
        headers = _headers(endpoint)
        async with open_stream(
            endpoint, url, headers=headers, body=_body(request), auth_failed=_bad_key
        ) as response:
            async for event in sse_data(response):
                part = _completion(event)
                if part.text:
                    yield part.text
                if part.usage != Usage():
                    usage = part.usage
        yield usage

    async def list_models(self, endpoint: Endpoint) -> list[tuple[str, str]]:
        url = join(endpoint.base_url, f"{API_VERSION}/models")
        answer = await call(endpoint, "GET", url, headers=_headers(endpoint), auth_failed=_bad_key)
        rows = answer.get("models") if isinstance(answer, dict) else None
        models = []
        for m in rows or []:
            if isinstance(m, dict) and isinstance(m.get("name"), str):
                model_id = m["name"].removeprefix("models/")
                models.append((model_id, str(m.get("displayName") or model_id)))
        return models


def _model(request: CompletionRequest) -> str:
    """The model id, which goes into the path: nothing but a model name's characters."""
    model = request.model.removeprefix("models/")
    if not _MODEL.fullmatch(model):
        raise LlmRejected("the model name is not valid")
    return model


def _body(request: CompletionRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contents": [
            {"role": "model" if m.role == "assistant" else "user", "parts": [{"text": m.content}]}
            for m in request.messages
        ]
    }
    if request.system:
        body["systemInstruction"] = {"parts": [{"text": request.system}]}
    config: dict[str, Any] = {}
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if config:
        body["generationConfig"] = config
    if request.tools:
        body["tools"] = [
            {
                "functionDeclarations": [
                    {"name": t.name, "description": t.description, "parameters": t.parameters}
                    for t in request.tools
                ]
            }
        ]
    return body


def _headers(endpoint: Endpoint) -> dict[str, str]:
    return {"x-goog-api-key": endpoint.api_key} if endpoint.api_key else {}


def _bad_key(status: int, body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    return status == 400 and any(
        isinstance(d, dict) and d.get("reason") == "API_KEY_INVALID" for d in details or []
    )


def _completion(answer: Any) -> Completion:
    candidates = answer.get("candidates") if isinstance(answer, dict) else None
    candidate = candidates[0] if isinstance(candidates, list) and candidates else {}
    content = candidate.get("content") if isinstance(candidate, dict) else None
    parts = content.get("parts") if isinstance(content, dict) else None
    text: list[str] = []
    calls: list[ToolCall] = []
    for part in parts or []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            text.append(part["text"])
        function = part.get("functionCall")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            arguments = function.get("args")
            calls.append(ToolCall(function["name"], arguments if isinstance(arguments, dict) else {}))
    usage = answer.get("usageMetadata") if isinstance(answer.get("usageMetadata"), dict) else {}
    feedback = answer.get("promptFeedback") if isinstance(answer.get("promptFeedback"), dict) else {}
    finish = candidate.get("finishReason") if isinstance(candidate, dict) else None
    return Completion(
        text="".join(text),
        tool_calls=calls,
        usage=Usage(as_int(usage.get("promptTokenCount")), as_int(usage.get("candidatesTokenCount"))),
        refused=finish in _BLOCKED or feedback.get("blockReason") is not None,
    )
