"""HTTP plumbing: request ids and access logs, body size limits, and the error envelope for every
response the framework itself produces (outages of the database or Redis included: 503)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxinbox.core.errors import STATUS_CODES, AppError, PayloadTooLarge, ServiceUnavailable

log = structlog.get_logger("cxinbox.http")

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=@-]+")


class RequestContextMiddleware:
    """Binds a request id (the caller's ``X-Request-ID`` or a new one) to every log line of the
    request, echoes it in the response, and writes one access-log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _caller_request_id(dict(scope["headers"])) or uuid.uuid4().hex
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


def _caller_request_id(headers: dict[bytes, bytes]) -> str | None:
    """The caller's ``X-Request-ID`` if it is a plain token (it is echoed and logged), else None."""
    raw = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")[:64]
    return raw if _SAFE_REQUEST_ID.fullmatch(raw) else None


def route_patterns(
    routes: Iterable[Any], prefix: str, keep: Callable[[APIRoute], bool]
) -> list[tuple[re.Pattern[str], set[str]]]:
    """The path patterns and methods of the ``routes`` that ``keep`` selects, for middleware that
    must recognise them before the framework routes the request."""
    return [
        (compile_path(prefix + route.path)[0], set(route.methods or ()))
        for route in routes
        if isinstance(route, APIRoute) and keep(route)
    ]


def upload_routes(routes: Iterable[Any], prefix: str = "") -> list[tuple[re.Pattern[str], set[str]]]:
    """The path patterns and methods of the routes that take a file (an ``UploadFile`` parameter)."""
    return route_patterns(
        routes,
        prefix,
        lambda route: any(isinstance(param.field_info, params.File) for param in route.dependant.body_params),
    )


class BodySizeLimitMiddleware:
    """413 for bodies over the limit: the routes that take a file (``uploads``, from
    ``upload_routes``) have the upload limit, every other route the small one. The route decides,
    not the declared ``Content-Type``: a client calling any other route with a multipart type still
    gets the small limit. Checked on ``Content-Length`` and again while the body streams in."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        max_upload: int,
        uploads: list[tuple[re.Pattern[str], set[str]]],
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.uploads = uploads

    def limit_for(self, method: str, path: str) -> int:
        for pattern, methods in self.uploads:
            if method in methods and pattern.match(path):
                return self.max_upload
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.limit_for(scope["method"], scope["path"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_error(send, PayloadTooLarge(f"The request body exceeds {limit} bytes"))
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # an HTTPException is what the framework lets through from its body reading
                    # (anything else becomes a 400); the error handlers render it as 413
                    raise StarletteHTTPException(413, f"The request body exceeds {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)


async def send_error(send: Send, error: AppError) -> None:
    """Answer with ``error``'s envelope from middleware, before the app has seen the request."""
    response = JSONResponse(error.body(), status_code=error.status_code, headers=error.headers)
    await send(
        {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
    )
    await send({"type": "http.response.body", "body": response.body})


def client_ip(request: Request) -> str:
    """The caller's address as the server sees it (for rate limits and the audit log)."""
    return request.client.host if request.client else "unknown"


_LOCATIONS = ("body", "query", "path", "header", "cookie")


def _field_name(loc: tuple[Any, ...]) -> str:
    """The field a framework error is about: its location without the leading part (``body``,
    ``query``, …), which is no field (a body field may itself be named ``query``)."""
    parts = [str(p) for p in (loc[1:] if loc and loc[0] in _LOCATIONS else loc)]
    return ".".join(parts) or str(loc[0] if loc else "body")


#: how an enum member shows in the framework's messages (``<Role.ADMIN: 'ADMIN'>``)
_ENUM_MEMBER = re.compile(r"<\w+(?:\.\w+)*: ('[^']*'|-?\d+)>")


def _error_message(err: dict[str, Any]) -> str:
    """The framework's message for one bad field, in the client's terms: enum members as their wire
    values, a validator's own message without the "Value error, " prefix."""
    if err.get("type") == "value_error" and "error" in err.get("ctx", {}):
        return str(err["ctx"]["error"])
    return _ENUM_MEMBER.sub(r"\1", str(err.get("msg", "")))


#: the errors that mean the database or Redis is down or not answering (not that the request is wrong)
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
)
#: ``Retry-After`` of an outage's 503
OUTAGE_RETRY_AFTER_SECONDS = 5


def outage_of(exc: BaseException) -> BaseException | None:
    """The outage behind ``exc`` (it or what caused it), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OUTAGE_ERRORS):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _unavailable(outage: BaseException) -> JSONResponse:
    """503 with ``Retry-After``. Logged without a traceback or the statement's parameters (they may
    be secrets, such as a password hash): the driver's own message only."""
    log.warning(
        "dependency_unavailable",
        error_type=type(outage).__name__,
        error=str(getattr(outage, "orig", None) or outage)[:300],
    )
    error = ServiceUnavailable(
        "A service the API depends on is unavailable; try again shortly",
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
    )
    return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers)


def _validation_failed(details: list[dict[str, str]]) -> JSONResponse:
    fields = ", ".join(d["field"] for d in details)
    body = {
        "error": {"code": "VALIDATION_ERROR", "message": f"Invalid request: {fields}", "details": details}
    }
    return JSONResponse(body, status_code=400)


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
                    {"field": _field_name(tuple(err.get("loc", ()))), "message": _error_message(err)}
                )
        return _validation_failed(details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # the framework could not read the body (e.g. it is not UTF-8)
            return _validation_failed([{"field": "body", "message": "Malformed JSON"}])
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

    async def dependency_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        return _unavailable(outage_of(exc) or exc)

    for outage_type in OUTAGE_ERRORS:
        app.add_exception_handler(outage_type, dependency_unavailable)

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
        if (outage := outage_of(exc)) is not None:  # an outage wrapped in another error
            return _unavailable(outage)
        log.exception("unhandled_error", error_type=type(exc).__name__)
        return JSONResponse(
            {"error": {"code": "INTERNAL_ERROR", "message": "Internal server error"}}, status_code=500
        )
