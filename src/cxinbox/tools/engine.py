"""One request to the business's API: a template filled with values, sent through the outbound guard
with the endpoint's credentials, and the answer read back with every credential redacted.

What leaves this module never holds a secret: the log line names the host, the status and the time
only (URLs and headers carry keys), and the body read back has each credential replaced by ``••••``
(an API that echoes its request cannot hand the key to whoever reads the answer).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from yarl import URL

from cxinbox.core.outbound import DestinationRefused, OutboundError, ResponseTooLarge, shared_client
from cxinbox.tools import templating
from cxinbox.tools.endpoints import Endpoint

log = structlog.get_logger(__name__)

MAX_ANSWER_BYTES = 1024 * 1024
REDACTED = "••••"
#: a credential shorter than this is not searched for in answers (it would mangle ordinary text)
_MIN_REDACTED_LENGTH = 4


@dataclass(frozen=True)
class RequestTemplate:
    method: str = "GET"
    #: path (and query string) after the endpoint's base URL, with ``{{…}}`` placeholders
    path: str = ""
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    #: JSON data with placeholders; ``None`` sends no body
    body: Any = None


@dataclass(frozen=True)
class Answer:
    """What came back: ``status`` and the body, or ``error`` when nothing usable did."""

    status: int | None
    latency_ms: int
    text: str = ""
    data: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


async def send(
    endpoint: Endpoint, template: RequestTemplate, values: templating.Values, *, allow_private: bool
) -> Answer:
    return read(endpoint, await exchange(endpoint, template, values, allow_private=allow_private))


@dataclass(frozen=True)
class Received:
    """What came back, not read yet (``read``): the response's status and body, or the failure."""

    host: str | None
    latency_ms: int
    status: int | None = None
    body: bytes = b""
    failure: OutboundError | None = None
    #: the request could not be built (no call was made)
    unbuilt: str | None = None


async def exchange(
    endpoint: Endpoint, template: RequestTemplate, values: templating.Values, *, allow_private: bool
) -> Received:
    """The request sent and its response received; reading it (``read``) is left to the caller, who
    may let other work go first in between (``runner.run``)."""
    started = time.monotonic()
    try:
        request = _build(endpoint, template, values)
    except (templating.TemplateError, httpx.InvalidURL, ValueError) as exc:
        return Received(None, 0, unbuilt=f"the request could not be built: {exc}")
    target = URL(str(request.url), encoded=True)  # as httpx wrote it: the escaping stays the template's
    try:
        response = await shared_client(allow_private=allow_private).request(
            request.method,
            target,
            headers=request.headers,
            trusted=_same_origin_as(target),
            max_bytes=MAX_ANSWER_BYTES,
            timeout=endpoint.timeout_seconds,
            **request.content,
        )
    except OutboundError as exc:
        return Received(request.url.host, _elapsed_ms(started), failure=exc)
    return Received(request.url.host, _elapsed_ms(started), response.status, response.body)


def read(endpoint: Endpoint, received: Received) -> Answer:
    """``received`` as an ``Answer``: logged (host, status and time only), the body decoded with
    every credential of ``endpoint`` redacted, and parsed when it is JSON."""
    latency = received.latency_ms
    if received.unbuilt is not None:
        return Answer(None, latency, error=received.unbuilt)
    if received.failure is not None:
        reason = type(received.failure).__name__
        log.info("tool_request_failed", host=received.host, reason=reason, latency_ms=latency)
        return Answer(None, latency, error=_describe(received.failure))
    log.info("tool_request", host=received.host, status=received.status, latency_ms=latency)
    text = _redacted(received.body.decode("utf-8", errors="replace"), endpoint)
    return Answer(received.status, latency, text=text, data=_parsed(text))


@dataclass(frozen=True)
class _Request:
    method: str
    url: httpx.URL
    headers: dict[str, str]
    content: dict[str, Any]


def _build(endpoint: Endpoint, template: RequestTemplate, values: templating.Values) -> _Request:
    path = templating.render_url_path(template.path, values)
    if path and not path.startswith(("/", "?")):
        path = "/" + path
    url = httpx.URL(endpoint.base_url.rstrip("/") + path)
    _check_same_place(_place(endpoint.base_url), url)
    query = {name: templating.render_text(value, values) for name, value in template.query.items()}
    params = {**query, **endpoint.auth_query()}
    if params or url.query:  # merging nothing into no query string changes nothing
        url = url.copy_merge_params(params)
    headers = {**endpoint.headers}
    for name, value in template.headers.items():
        headers[name] = templating.render_header(name, value, values)
    headers.update(endpoint.auth_headers())
    content: dict[str, Any] = {}
    if template.body is not None and template.method not in ("GET", "HEAD"):
        content["json"] = templating.render_json(template.body, values)
    return _Request(template.method, url, headers, content)


@dataclass(frozen=True)
class _Place:
    """Where a base URL leads: its origin, and the path every filled URL must stay under."""

    origin: tuple[str, str, int | None]
    path: bytes


@functools.lru_cache(maxsize=1024)
def _place(base_url: str) -> _Place:
    """The base URL's place, parsed once per base URL (not on every call through it)."""
    base = httpx.URL(base_url)
    return _Place((base.scheme, base.host, base.port), base.raw_path.split(b"?", 1)[0].rstrip(b"/"))


def _check_same_place(base: _Place, url: httpx.URL) -> None:
    """Belt and braces over the escaping: the filled URL stays on the base URL's origin and path."""
    if (url.scheme, url.host, url.port) != base.origin:
        raise templating.TemplateError("the filled URL leaves the connection's host")
    if not url.raw_path.split(b"?", 1)[0].startswith(base.path):
        raise templating.TemplateError("the filled URL leaves the connection's path")


def _same_origin_as(first: URL) -> Callable[[URL], bool]:
    """Redirects are followed on the endpoint's origin only: the guard drops ``Authorization`` when
    a hop leaves it, but an API key travels in a header of any name, or in the query string."""
    origin = _origin(first)

    def same_origin(url: URL) -> bool:
        return _origin(url) == origin

    return same_origin


def _origin(url: URL) -> tuple[str, str, int | None]:
    return url.scheme, (url.host or "").lower(), url.port  # yarl's port: the scheme's when none is written


def _redacted(text: str, endpoint: Endpoint) -> str:
    for secret in endpoint.secret_values():
        if len(secret) >= _MIN_REDACTED_LENGTH:
            text = text.replace(secret, REDACTED)
    return text


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _describe(exc: OutboundError) -> str:
    if isinstance(exc, DestinationRefused):
        return f"the destination is not allowed: {exc}"
    if isinstance(exc, ResponseTooLarge):
        return f"the answer is larger than {MAX_ANSWER_BYTES} bytes"
    return f"the service did not answer: {exc}"


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
