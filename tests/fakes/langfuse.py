"""A fake Langfuse on 127.0.0.1: the public ingestion API (``POST /api/public/ingestion``) with its
basic auth (public key as user, secret key as password), answering as Langfuse does: 401 for wrong
keys, 400 for a body that is not ``{batch: [...]}``, else 207 with ``successes`` and ``errors`` per
event (an event without an id, a known type or a body with an id is an error, not a 4xx). It records
what it took, and can be told to fail the next requests with a status."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.serving import ThreadedServer

EVENT_TYPES = {
    "trace-create",
    "span-create",
    "span-update",
    "generation-create",
    "generation-update",
    "event-create",
}
OBSERVATIONS = EVENT_TYPES - {"trace-create"}


@dataclass
class Received:
    authorization: str | None
    batch: list[dict[str, Any]]


@dataclass
class LangfuseState:
    public_key: str = "pk-lf-test"
    secret_key: str = "sk-lf-test"
    received: list[Received] = field(default_factory=list)
    requests: int = 0
    failures: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeLangfuse(ThreadedServer):
    def __init__(self) -> None:
        self.state = LangfuseState()
        super().__init__(
            Starlette(routes=[Route("/api/public/ingestion", self._ingest, methods=["POST"])]),
            name="fake Langfuse",
        )

    def fail_next(self, *statuses: int) -> None:
        with self.state.lock:
            self.state.failures.extend(statuses)

    def events(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [event for received in self.state.received for event in received.batch]

    async def _ingest(self, request: Request) -> JSONResponse:
        with self.state.lock:
            self.state.requests += 1
            failure = self.state.failures.pop(0) if self.state.failures else None
        if failure is not None:
            return JSONResponse({"message": "unavailable"}, status_code=failure)
        if not self._authorized(request.headers.get("authorization")):
            return JSONResponse({"message": "Invalid credentials"}, status_code=401)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"message": "Invalid JSON"}, status_code=400)
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(batch, list):
            return JSONResponse({"message": "Invalid request data"}, status_code=400)
        successes, errors = [], []
        for event in batch:
            problem = _problem(event)
            if problem is None:
                successes.append({"id": event["id"], "status": 201})
            else:
                errors.append({"id": str(event.get("id")), "status": 400, "message": problem})
        with self.state.lock:
            self.state.received.append(Received(request.headers.get("authorization"), batch))
        return JSONResponse({"successes": successes, "errors": errors}, status_code=207)

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (self.state.public_key, self.state.secret_key)


def _problem(event: Any) -> str | None:
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event.get("timestamp"):
        return "an event needs an id and a timestamp"
    if event.get("type") not in EVENT_TYPES:
        return f"unknown event type {event.get('type')!r}"
    body = event.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return "the body needs an id"
    if event["type"] in OBSERVATIONS and not isinstance(body.get("traceId"), str):
        return "an observation needs its traceId"
    return None
