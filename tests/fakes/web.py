"""A small web server on 127.0.0.1 standing in for "some host on the internet": it answers, redirects,
streams large or compressed bodies, serves files a test gives it, hangs, and records every request it
gets (with its headers), so tests can prove what an outbound call did or never did."""

from __future__ import annotations

import asyncio
import gzip
import threading
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.serving import ThreadedServer

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]


class WebServer(ThreadedServer):
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route("/hello", self._hello),
                Route("/headers", self._headers),
                Route("/cookie", self._cookie),
                Route("/redirect", self._redirect),
                Route("/stream", self._stream),
                Route("/gzip", self._gzip),
                Route("/hang", self._hang),
                Route("/files/{name}", self._file),
            ]
        )
        super().__init__(app, name="web server")

    def serve(self, name: str, data: bytes, content_type: str) -> str:
        """Serve ``data`` as ``content_type`` at ``/files/{name}``; its URL."""
        with self._lock:
            self._files[name] = (data, content_type)
        return f"{self.url}/files/{name}"

    def paths(self) -> list[str]:
        with self._lock:
            return [seen.path for seen in self.seen]

    def _record(self, request: Request) -> None:
        with self._lock:
            self.seen.append(Seen(request.url.path, dict(request.headers)))

    async def _hello(self, request: Request) -> Response:
        self._record(request)
        return Response(b"hello", media_type="text/plain")

    async def _headers(self, request: Request) -> Response:
        self._record(request)
        return JSONResponse(dict(request.headers))

    async def _cookie(self, request: Request) -> Response:
        """``?value=``: sets the cookie ``session`` to it."""
        self._record(request)
        response = Response(b"set", media_type="text/plain")
        response.set_cookie("session", request.query_params["value"])
        return response

    async def _redirect(self, request: Request) -> Response:
        """``?to=<url>&status=302``"""
        self._record(request)
        return RedirectResponse(
            request.query_params["to"], status_code=int(request.query_params.get("status", 302))
        )

    async def _stream(self, request: Request) -> Response:
        """``?bytes=<n>``: ``n`` bytes, streamed without a Content-Length."""
        self._record(request)
        size = int(request.query_params["bytes"])

        async def body():
            sent = 0
            while sent < size:
                chunk = min(CHUNK, size - sent)
                sent += chunk
                yield b"x" * chunk

        return StreamingResponse(body(), media_type="application/octet-stream")

    async def _gzip(self, request: Request) -> Response:
        """``?bytes=<n>``: ``n`` zero bytes, gzip-compressed into a tiny body."""
        self._record(request)
        data = gzip.compress(bytes(int(request.query_params["bytes"])))
        return Response(data, headers={"Content-Encoding": "gzip"}, media_type="application/octet-stream")

    async def _file(self, request: Request) -> Response:
        self._record(request)
        with self._lock:
            found = self._files.get(request.path_params["name"])
        if found is None:
            return Response(b"not found", status_code=404, media_type="text/plain")
        return Response(found[0], media_type=found[1])

    async def _hang(self, request: Request) -> Response:
        self._record(request)
        await asyncio.Event().wait()
        return Response(b"never")
