"""A small HTTP server on 127.0.0.1 standing in for a business's own API (orders, customer accounts),
called by tools, connections and the integration. It records every request exactly as it arrived
(method, raw path, query string, headers, body) so tests can prove what a templated call sent."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import ThreadedServer

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True)
class Received:
    method: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class BusinessApi(ThreadedServer):
    def __init__(self) -> None:
        self.received: list[Received] = []
        #: phone (as sent) -> account, for ``/customers``
        self.accounts: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route("/status/{code:int}", self._status, methods=METHODS),
                Route("/customers", self._customers),
                Route("/big", self._big),
                Route("/slow/{ms:int}", self._slow, methods=METHODS),
                Route("/{rest:path}", self._echo, methods=METHODS),
            ]
        )
        super().__init__(app, name="business API")

    def last(self) -> Received:
        with self._lock:
            return self.received[-1]

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    async def _record(self, request: Request) -> Received:
        received = Received(
            request.method,
            request.scope["raw_path"].decode(),
            request.scope["query_string"].decode(),
            dict(request.headers),
            await request.body(),
        )
        with self._lock:
            self.received.append(received)
        return received

    async def _echo(self, request: Request) -> Response:
        """Anything else: the request described back (headers included, as a careless API would)."""
        received = await self._record(request)
        return JSONResponse(
            {
                "data": {
                    "method": received.method,
                    "path": received.raw_path,
                    "query": received.query,
                    "headers": received.headers,
                    "body": received.body.decode(errors="replace"),
                    "status": "shipped",
                }
            }
        )

    async def _status(self, request: Request) -> Response:
        await self._record(request)
        code = request.path_params["code"]
        return JSONResponse({"error": f"status {code}", "echo": dict(request.headers)}, status_code=code)

    async def _customers(self, request: Request) -> Response:
        """``?phone=``: ``{"data": [account]}``, or ``{"data": []}`` for an unknown number."""
        await self._record(request)
        account = self.accounts.get(request.query_params.get("phone", ""))
        return JSONResponse({"data": [account] if account else []})

    async def _slow(self, request: Request) -> Response:
        """``/slow/{ms}``: recorded at once, answered after ``ms`` milliseconds."""
        await self._record(request)
        await asyncio.sleep(request.path_params["ms"] / 1000)
        return JSONResponse({"data": {"status": "slow but shipped"}})

    async def _big(self, request: Request) -> Response:
        await self._record(request)
        return JSONResponse({"items": [{"n": i, "text": "x" * 100} for i in range(500)]})
