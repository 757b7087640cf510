"""Fake LLM providers: one real HTTP server on 127.0.0.1 speaking each provider's wire format.

- ``{url}/openai/v1``, ``{url}/deepseek/v1``, ``{url}/kimi/v1``, ``{url}/local/v1``: OpenAI Chat
  Completions (``POST chat/completions``, ``GET models``), tool calls included;
- ``{url}/anthropic``: Anthropic Messages (``POST v1/messages``, ``GET v1/models``);
- ``{url}/google``: Gemini (``POST v1beta/models/{model}:generateContent``, ``GET v1beta/models``).

Each streams when asked (``"stream": true``; Gemini's ``:streamGenerateContent?alt=sse``), the text
in pieces of a word.

Tests isolate themselves by API key: ``script(key, *replies)`` makes the key valid and queues the
answers its next calls get (then ``Reply()``, the text "ok"); any other key is refused the way that
provider refuses one (and the refusal echoes the key, as a careless provider might). Every request
is recorded with its flavour, path, headers and JSON body.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.serving import ThreadedServer

OPENAI_FLAVOURS = ("openai", "deepseek", "kimi", "local")


@dataclass
class Reply:
    text: str = "ok"
    #: a function call the model makes: (name, arguments)
    tool_call: tuple[str, dict[str, Any]] | None = None
    #: an HTTP error instead of an answer: 429, 500, 503, 529, …
    status: int | None = None
    retry_after: int | None = None
    #: the provider's refusal or content filter
    refused: bool = False
    input_tokens: int = 11
    output_tokens: int = 7
    #: seconds the provider takes before it answers (a slow or hung provider)
    delay: float = 0.0
    #: the provider answers only once this is set (a model slow for as long as a test needs)
    hold: threading.Event | None = None
    #: a streamed answer breaks off with the provider's error event after its first piece
    break_stream: bool = False


@dataclass
class Recorded:
    flavour: str
    path: str
    headers: dict[str, str]
    body: Any
    key: str


@dataclass
class LlmState:
    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    models: dict[str, list[str]] = field(default_factory=dict)
    #: requests of each key waiting on their reply's ``delay`` or ``hold`` now
    waiting: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeLlm:
    def __init__(self) -> None:
        self.state = LlmState()
        self._server = ThreadedServer(self._app(), name="fake LLM")

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    def base(self, flavour: str) -> str:
        """The base URL a config gives for ``flavour`` (as the provider's SDK takes it)."""
        return f"{self.url}/{flavour}/v1" if flavour in OPENAI_FLAVOURS else f"{self.url}/{flavour}"

    def script(self, key: str, *replies: Reply) -> None:
        with self.state.lock:
            self.state.scripts.setdefault(key, []).extend(replies)

    def requests_with(self, key: str) -> list[Recorded]:
        return [r for r in self.state.requests if r.key == key]

    def waiting(self, key: str) -> int:
        """Requests of ``key`` the fake is holding now (their reply's ``delay`` or ``hold``)."""
        with self.state.lock:
            return self.state.waiting.get(key, 0)

    # the server

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{flavour}/v1/chat/completions", self._openai_chat, methods=["POST"]),
                Route("/anthropic/v1/messages", self._anthropic_messages, methods=["POST"]),
                Route("/anthropic/v1/models", self._anthropic_models, methods=["GET"]),
                Route(
                    "/google/v1beta/models/{model}:generateContent", self._google_generate, methods=["POST"]
                ),
                Route(
                    "/google/v1beta/models/{model}:streamGenerateContent",
                    self._google_stream,
                    methods=["POST"],
                ),
                Route("/google/v1beta/models", self._google_models, methods=["GET"]),
                Route("/{flavour}/v1/models", self._openai_models, methods=["GET"]),
            ]
        )

    async def _record(self, request: Request, flavour: str, key: str) -> None:
        body = await request.json() if request.method == "POST" else None
        with self.state.lock:
            self.state.requests.append(Recorded(flavour, request.url.path, dict(request.headers), body, key))

    async def _next(self, key: str) -> Reply | None:
        """The key's next reply (after its delay), or None when the key is not known (refused)."""
        with self.state.lock:
            queue = self.state.scripts.get(key)
            if queue is None:
                return None
            reply = queue.pop(0) if queue else Reply()
            self.state.waiting[key] = self.state.waiting.get(key, 0) + 1
        try:
            if reply.delay:
                await asyncio.sleep(reply.delay)
            while reply.hold is not None and not reply.hold.is_set():
                await asyncio.sleep(0.01)
        finally:
            with self.state.lock:
                self.state.waiting[key] -= 1
        return reply

    @staticmethod
    def _failure(reply: Reply, body: dict[str, Any]) -> Response:
        headers = {"retry-after": str(reply.retry_after)} if reply.retry_after is not None else {}
        return JSONResponse(body, status_code=reply.status or 500, headers=headers)

    async def _openai_chat(self, request: Request) -> Response:
        flavour = request.path_params["flavour"]
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        await self._record(request, flavour, key)
        reply = await self._next(key)
        if reply is None:
            error = {
                "message": f"Incorrect API key provided: {key}",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
            return JSONResponse({"error": error}, status_code=401)
        if reply.status:
            return self._failure(
                reply,
                {
                    "error": {
                        "message": "Rate limit reached" if reply.status == 429 else "Server error",
                        "type": "server_error",
                    }
                },
            )
        body = await request.json()
        if body.get("stream"):
            return _sse(
                [
                    *(
                        {"choices": [{"index": 0, "delta": {"content": piece}}]}
                        for piece in _pieces(reply.text)
                    ),
                    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                    {
                        "choices": [],
                        "usage": {
                            "prompt_tokens": reply.input_tokens,
                            "completion_tokens": reply.output_tokens,
                        },
                    },
                ],
                done=True,
            )
        message: dict[str, Any] = {"role": "assistant", "content": None if reply.tool_call else reply.text}
        finish = "stop"
        if reply.tool_call:
            name, arguments = reply.tool_call

            message["tool_calls"] = [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(arguments)},
                }
            ]
            finish = "tool_calls"
        if reply.refused:
            message["content"], finish = None, "content_filter"
        return JSONResponse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": (await request.json())["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": reply.input_tokens,
                    "completion_tokens": reply.output_tokens,
                    "total_tokens": reply.input_tokens + reply.output_tokens,
                },
            }
        )

    async def _openai_models(self, request: Request) -> Response:
        flavour = request.path_params["flavour"]
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        await self._record(request, flavour, key)
        if key not in self.state.scripts:
            return JSONResponse(
                {"error": {"message": "Incorrect API key", "code": "invalid_api_key"}}, status_code=401
            )
        models = self.state.models.get(key, [])
        return JSONResponse(
            {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "x"} for m in models]}
        )

    async def _anthropic_messages(self, request: Request) -> Response:
        key = request.headers.get("x-api-key", "")
        await self._record(request, "anthropic", key)
        reply = await self._next(key)
        if reply is None:
            return JSONResponse(
                {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
                status_code=401,
            )
        if reply.status:
            kind = "rate_limit_error" if reply.status == 429 else "overloaded_error"
            return self._failure(reply, {"type": "error", "error": {"type": kind, "message": kind}})
        body = await request.json()
        if body.get("stream"):
            pieces = _pieces(reply.text)
            deltas = [
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
                for p in pieces
            ]
            if reply.break_stream:
                deltas = [
                    *deltas[:1],
                    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
                ]
            return _sse(
                [
                    {
                        "type": "message_start",
                        "message": {"usage": {"input_tokens": reply.input_tokens, "output_tokens": 1}},
                    },
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                    *deltas,
                    {"type": "content_block_stop", "index": 0},
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": "end_turn"},
                        "usage": {"output_tokens": reply.output_tokens},
                    },
                    {"type": "message_stop"},
                ],
                named=True,
            )
        content: list[dict[str, Any]] = []
        stop = "end_turn"
        if reply.text and not reply.tool_call:
            content.append({"type": "text", "text": reply.text})
        if reply.tool_call:
            name, arguments = reply.tool_call
            content.append({"type": "tool_use", "id": "toolu_1", "name": name, "input": arguments})
            stop = "tool_use"
        if reply.refused:
            content, stop = [], "refusal"
        return JSONResponse(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": (await request.json())["model"],
                "content": content,
                "stop_reason": stop,
                "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
            }
        )

    async def _anthropic_models(self, request: Request) -> Response:
        key = request.headers.get("x-api-key", "")
        await self._record(request, "anthropic", key)
        if key not in self.state.scripts:
            return JSONResponse(
                {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
                status_code=401,
            )
        models = self.state.models.get(key, [])
        return JSONResponse(
            {
                "data": [{"id": m, "display_name": m.title(), "type": "model"} for m in models],
                "has_more": False,
            }
        )

    async def _google_generate(self, request: Request) -> Response:
        key = request.headers.get("x-goog-api-key", "")
        await self._record(request, "google", key)
        reply = await self._next(key)
        if reply is None:
            return JSONResponse(_google_bad_key(), status_code=400)
        if reply.status:
            status = "RESOURCE_EXHAUSTED" if reply.status == 429 else "UNAVAILABLE"
            return self._failure(
                reply, {"error": {"code": reply.status, "message": status, "status": status}}
            )
        parts: list[dict[str, Any]] = []
        if reply.tool_call:
            name, arguments = reply.tool_call
            parts.append({"functionCall": {"name": name, "args": arguments}})
        else:
            parts.append({"text": reply.text})
        candidate: dict[str, Any] = {
            "content": {"role": "model", "parts": parts},
            "finishReason": "STOP",
            "index": 0,
        }
        if reply.refused:
            candidate = {"finishReason": "SAFETY", "index": 0}
        return JSONResponse(
            {
                "candidates": [candidate],
                "usageMetadata": {
                    "promptTokenCount": reply.input_tokens,
                    "candidatesTokenCount": reply.output_tokens,
                    "totalTokenCount": reply.input_tokens + reply.output_tokens,
                },
                "modelVersion": request.path_params["model"],
            }
        )

    async def _google_stream(self, request: Request) -> Response:
        key = request.headers.get("x-goog-api-key", "")
        await self._record(request, "google", key)
        reply = await self._next(key)
        if reply is None:
            return JSONResponse(_google_bad_key(), status_code=400)
        if reply.status:
            return self._failure(
                reply, {"error": {"code": reply.status, "message": "UNAVAILABLE", "status": "UNAVAILABLE"}}
            )
        events: list[dict[str, Any]] = [
            {"candidates": [{"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}]}
            for piece in _pieces(reply.text)
        ]
        events[-1]["candidates"][0]["finishReason"] = "STOP"
        events[-1]["usageMetadata"] = {
            "promptTokenCount": reply.input_tokens,
            "candidatesTokenCount": reply.output_tokens,
        }
        return _sse(events)

    async def _google_models(self, request: Request) -> Response:
        key = request.headers.get("x-goog-api-key", "")
        await self._record(request, "google", key)
        if key not in self.state.scripts:
            return JSONResponse(_google_bad_key(), status_code=400)
        models = self.state.models.get(key, [])
        return JSONResponse({"models": [{"name": f"models/{m}", "displayName": m.upper()} for m in models]})


def _google_bad_key() -> dict[str, Any]:
    return {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ],
        }
    }


def _pieces(text: str) -> list[str]:
    """The text in pieces of a word (each with the space before it), as a model streams it."""
    words = text.split(" ")
    return [words[0], *(f" {w}" for w in words[1:])]


def _sse(events: list[dict[str, Any]], *, named: bool = False, done: bool = False) -> StreamingResponse:
    """A server-sent event stream of ``events`` (``named``: with ``event:`` lines as Anthropic's)."""

    async def body() -> Any:
        for event in events:
            prefix = f"event: {event['type']}\n" if named else ""
            yield f"{prefix}data: {json.dumps(event)}\n\n".encode()
        if done:
            yield b"data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream")
