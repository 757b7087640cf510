"""HTTP plumbing: request ids and access logs, body size limits, and the error envelope for every
response the framework itself produces."""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxinbox.core.errors import STATUS_CODES, AppError, PayloadTooLarge

log = structlog.get_logger("cxinbox.http")

REQUEST_ID_HEADER = "x-request-id"


class RequestContextMiddleware:
    """Binds a request id (the caller's ``X-Request-ID`` or a new one) to every log line of the
    request, echoes it in the response, and writes one access-log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(REQUEST_ID_HEADER.encode(), b"").decode()[:64] or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.clear_contextvars()


class BodySizeLimitMiddleware:
    """413 for bodies over the limit: JSON and other bodies have a small limit, multipart uploads a
    larger one. Checked on ``Content-Length`` and again while the body streams in."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode().lower()
        limit = self.max_upload if content_type.startswith("multipart/") else self.max_body
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_error(send, PayloadTooLarge(f"The request body exceeds {limit} bytes"))
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await _send_error(send, PayloadTooLarge(f"The request body exceeds {limit} bytes"))


class _BodyTooLarge(Exception):
    pass


async def _send_error(send: Send, error: AppError) -> None:
    response = JSONResponse(error.body(), status_code=error.status_code, headers=error.headers)
    await send(
        {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
    )
    await send({"type": "http.response.body", "body": response.body})


def client_ip(request: Request) -> str:
    """The caller's address as the server sees it (for rate limits and the audit log)."""
    return request.client.host if request.client else "unknown"


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                details.append({"field": "body", "message": "Malformed JSON"})
            else:
                details.append(
                    {"field": _field_name(tuple(err.get("loc", ()))), "message": err.get("msg", "")}
                )
        fields = ", ".join(d["field"] for d in details)
        body = {
            "error": {"code": "VALIDATION_ERROR", "message": f"Invalid request: {fields}", "details": details}
        }
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "ERROR")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
        return JSONResponse(
            {"error": {"code": code, "message": message}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        # a concurrent request created the same unique thing first
        log.info("integrity_conflict", error=str(exc.orig)[:200])
        return JSONResponse(
            {"error": {"code": "CONFLICT", "message": "The request conflicts with existing data"}},
            status_code=409,
        )

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error_type=type(exc).__name__)
        return JSONResponse(
            {"error": {"code": "INTERNAL_ERROR", "message": "Internal server error"}}, status_code=500
        )
