"""The one way the server calls a URL it did not write itself: the outbound-HTTP guard.

Every outbound call whose destination comes from outside (a webhook's media URL, an LLM or tool
base URL an organization configured, a connection, a data source, n8n) goes through
``OutboundClient`` (httpx, a client of the caller's own) or the event loop's ``shared_client``
(aiohttp, kept alive between callers)::

    async with OutboundClient(allow_private=settings.allow_private_urls) as http:
        response = await http.request("GET", url, headers=..., trusted=may_receive_token)
    answer = await shared_client(allow_private=...).request("POST", url, json=..., timeout=10)

What it promises:

- **No private destinations.** The host is resolved, and every address it resolves to must be
  public: loopback, private (RFC 1918, unique-local), link-local (``169.254.169.254``, the cloud
  metadata address), carrier-grade NAT, multicast, reserved and unspecified addresses are refused,
  for IPv4 and IPv6 alike, including IPv4 inside IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64). The check
  runs on the resolved addresses, so every spelling of an address (``http://2130706433/``,
  ``http://0x7f.1/``, a DNS name pointing at ``10.0.0.1``) is caught, and the connection is made to
  the very address that was checked (a second, different DNS answer cannot slip in). The one switch
  that lets private addresses through is ``CXINBOX_ALLOW_PRIVATE_URLS`` (tests, on-premise LLMs).
- **Redirects re-checked.** Redirects are followed here, at most ``max_redirects`` of them; each hop
  is a new URL that passes the same checks (and ``trusted``, when the caller gives it). Credentials
  (``Authorization``, cookies) are dropped when a redirect leaves the origin.
- **Bounded.** The whole call (every hop and the body) ends within ``timeout`` seconds, and a body
  over ``max_bytes`` (after decompression) is abandoned while streaming.
- **Quiet about secrets.** Refusals are logged with the host and the reason only: never a path,
  query string or header (URLs and headers carry tokens).

Callers that make many calls (an LLM provider on every bot turn, the tools engine: one per tool
call, for every organization) use ``shared_client(allow_private=…)``: one ``LeanClient`` per event
loop and setting, on aiohttp, whose request costs a fraction of the CPU of httpx's (an LLM call
through its adapter: 0.16-0.25 ms against 0.7-1.1 ms on a kept-alive connection, measured by
``bench.outbound_cpu``) and whose pool finds an idle connection without scanning every one open.
It keeps every promise above with the same checks (``_refuse_private`` on each resolved address or
address written in the URL, ``_check_url`` and ``trusted`` on every hop, credentials dropped off
the origin), answers an ``Answer`` (status, headers, body, ``json()``) rather than an
``httpx.Response``, and keeps no cookies (one caller's would reach the next). A kept-alive
connection goes to the very address that was checked when it was opened; a redirect or another host
opens a connection through the same check; ``close_shared_clients`` closes them at shutdown.

``stream`` is the same call for an answer read as it arrives (an LLM's tokens): no redirects are
followed (one is refused), and the time and size caps hold over the whole stream.

Failures are ``OutboundError``: ``DestinationRefused`` and ``ResponseTooLarge`` are final,
``OutboundUnavailable`` (timeouts, connection errors) has ``retryable = True``. HTTP error statuses
are answers, not failures: the caller reads ``response.status_code`` (``answer.status``).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json as jsonlib
import socket
import ssl
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

import aiohttp
import anyio
import httpcore
import httpx
import structlog
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 3
#: a kept-alive connection idle this long is closed: under the 5 s after which common servers close one
KEEPALIVE_SECONDS = 4.0
SCHEMES = frozenset({"http", "https"})

#: headers that carry a credential: never sent to another origin on a redirect
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
#: headers that describe the encoded body, not the bytes ``request`` answers with
_BODY_ENCODING_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundError(Exception):
    """An outbound call that did not get an answer. ``retryable``: a later attempt may succeed."""

    retryable = False


class DestinationRefused(OutboundError):
    """The URL (or a redirect, or an address its host resolves to) is not allowed."""


class ResponseTooLarge(OutboundError):
    """The answer's body is larger than the call allows."""


class OutboundUnavailable(OutboundError):
    """Timed out, or the connection failed. ``may_have_arrived``: the request may have reached the
    other side (it was being written or answered when it broke off), so its effect is unknown."""

    retryable = True

    def __init__(self, message: str, *, may_have_arrived: bool = True) -> None:
        super().__init__(message)
        self.may_have_arrived = may_have_arrived


#: failures before a byte of the request left: the other side cannot have acted on it
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet (the only place the guard connects to)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    if isinstance(address, ipaddress.IPv4Address) and address in _CARRIER_GRADE_NAT:
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _refuse_private(host: str | None, addresses: Iterable[str]) -> None:
    """Raise ``DestinationRefused`` when any of ``addresses`` (what ``host`` resolves to, or the
    address written in the URL) is not public: the one address check of both transports."""
    if any(not is_public_address(ipaddress.ip_address(a.split("%", 1)[0])) for a in addresses):
        log.warning("outbound_refused", host=host, reason="private address")
        raise DestinationRefused(f"{host} resolves to a private or reserved address")


class _CheckedNetwork(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, refuses non-public addresses, and connects to an address it checked."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        if not self._allow_private:
            _refuse_private(host, addresses)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._network.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"{host} has no address")

    @staticmethod
    async def _resolve(host: str, port: int) -> list[str]:
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} could not be resolved") from exc
        addresses: list[str] = []
        for *_, sockaddr in infos:
            address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone id is not part of the address
            if address not in addresses:
                addresses.append(address)
        return addresses

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Built once per process: loading the certificate store takes a tenth of a second or more,
    which every client (one per call, for many callers) would otherwise pay."""
    return httpx.create_ssl_context(trust_env=False)


class _CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool on the checked network."""

    def __init__(self, allow_private: bool, limits: httpx.Limits) -> None:
        super().__init__(verify=tls_context(), trust_env=False)
        # the pool httpx builds cannot be given a network backend: build the same one with ours
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_CheckedNetwork(allow_private),
        )


class Closing:
    """An async context manager that ``aclose``s what it holds on the way out."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        raise NotImplementedError


#: a client of its own (one caller, a few calls): httpcore's defaults
_ONE_CALLER_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=None, keepalive_expiry=None)


class OutboundClient(Closing):
    """An HTTP client of one caller for URLs from outside, on httpx (answers ``httpx.Response``, and
    streams). Use it as an async context manager (or ``aclose`` it)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
    ) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._http = httpx.AsyncClient(
            transport=_CheckedTransport(allow_private, _ONE_CALLER_LIMITS),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        trusted: Callable[[httpx.URL], bool] | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a cap the call applies itself
        **kwargs: Any,
    ) -> httpx.Response:
        """Send the request and answer the final response with its whole body read.

        ``kwargs`` are httpx's (``headers``, ``params``, ``json``, ``data``, ``files``). ``trusted``,
        when given, must accept the URL of every hop (e.g. the hosts that may receive a token);
        ``max_bytes`` and ``timeout`` override the client's body cap and time cap for this call.
        """
        seconds = self._timeout if timeout is None else timeout
        limits = httpx.Timeout(seconds, connect=min(self._connect_timeout, seconds))
        try:
            async with asyncio.timeout(seconds):
                request = self._http.build_request(method, url, timeout=limits, **kwargs)
                return await self._follow(request, trusted, max_bytes)
        except TimeoutError as exc:
            raise OutboundUnavailable("the request timed out") from exc
        except httpx.TimeoutException as exc:
            raise OutboundUnavailable(
                "the request timed out", may_have_arrived=not isinstance(exc, _NOT_SENT)
            ) from exc
        except httpx.HTTPError as exc:
            raise OutboundUnavailable(
                f"the request failed: {type(exc).__name__}", may_have_arrived=not isinstance(exc, _NOT_SENT)
            ) from exc

    @asynccontextmanager
    async def stream(
        self, method: str, url: str | httpx.URL, *, max_bytes: int | None = None, **kwargs: Any
    ) -> AsyncIterator[StreamedResponse]:
        """Send the request and yield the response with its body still to read (``lines``, ``read``)."""
        request = self._http.build_request(method, url, **kwargs)
        _check_url(request.url, None)
        deadline = time.monotonic() + self._timeout
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise OutboundUnavailable("the request timed out") from exc
        except httpx.HTTPError as exc:
            raise OutboundUnavailable(f"the request failed: {type(exc).__name__}") from exc
        try:
            if response.next_request is not None:
                log.warning("outbound_refused", host=request.url.host, reason="redirect on a stream")
                raise DestinationRefused("a streamed answer may not redirect")
            yield StreamedResponse(response, max_bytes or self._max_bytes, deadline)
        finally:
            await response.aclose()

    async def _follow(
        self, request: httpx.Request, trusted: Callable[[httpx.URL], bool] | None, max_bytes: int | None
    ) -> httpx.Response:
        for _hop in range(self._max_redirects + 1):
            _check_url(request.url, trusted)
            response = await self._http.send(request, stream=True)
            try:
                if response.next_request is None:
                    declared = response.headers.get("content-length", "")
                    body = await _read_capped(
                        int(declared) if declared.isdigit() else None,
                        response.aiter_bytes(),
                        max_bytes or self._max_bytes,
                    )
                    return _with_body(response, body)
            finally:
                await response.aclose()
            request = _redirected(request, response.next_request)
        log.warning("outbound_refused", host=request.url.host, reason="too many redirects")
        raise DestinationRefused("too many redirects")


@dataclass(frozen=True, slots=True)
class Answer:
    """A final answer of the lean client, its body read whole (and decompressed). ``headers`` are
    the answer's own, less those describing an encoding the body no longer has."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    url: URL

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON (``ValueError`` when it is not)."""
        return jsonlib.loads(self.body)


class _CheckedResolver(AbstractResolver):
    """The system's resolver, refusing a host with any non-public address (aiohttp connects to the
    addresses answered here, and its DNS cache holds only those)."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._resolver = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        if not self._allow_private:
            _refuse_private(host, [result["host"] for result in found])
        return found

    async def close(self) -> None:
        await self._resolver.close()


#: an answer that redirects (with a ``Location``)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: origins whose scheme and written address were checked, per client (a bound: origins come from
#: tenants' configuration)
_MAX_CHECKED_ORIGINS = 4096


class LeanClient(Closing):
    """The guard on aiohttp, for many small calls: ``shared_client`` (redirects followed, each hop
    checked) and ``core.outbound_bulk`` (message sends: a redirect is answered, never followed).

    One client per event loop and setting; every call brings its own headers (no cookies kept)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        follow_redirects: bool,
        max_connections: int = 0,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
    ) -> None:
        self._allow_private = allow_private
        self._follow_redirects = follow_redirects
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._checked: set[tuple[str, str, int | None]] = set()
        connector = aiohttp.TCPConnector(
            limit=max_connections,  # 0: as many as calls in flight (the callers bound them)
            keepalive_timeout=KEEPALIVE_SECONDS,
            resolver=_CheckedResolver(allow_private),
            ssl=tls_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )

    async def aclose(self) -> None:
        await self._session.close()

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        trusted: Callable[[URL], bool] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a cap the call applies itself
        max_bytes: int | None = None,
    ) -> Answer:
        """Send the request and answer the final response with its whole body read.

        ``json`` is sent as httpx sends it (compact UTF-8; ``ValueError`` for NaN), ``content`` as
        it is. ``trusted``, when given, must accept the URL of every hop; ``timeout`` (the whole call,
        every hop and the body) and ``max_bytes`` override the client's caps for this call.
        """
        target = url if isinstance(url, URL) else URL(url)
        if params:
            target = target.update_query(params)
        hop_headers = dict(headers or {})
        body = content
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            hop_headers.setdefault("Content-Type", "application/json")
        seconds = self._timeout if timeout is None else timeout
        cap = max_bytes or self._max_bytes
        deadline = time.monotonic() + seconds
        try:
            for _hop in range(self._max_redirects + 1):
                target = self._check(target, trusted)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                limits = aiohttp.ClientTimeout(total=left, connect=min(self._connect_timeout, left))
                async with self._session.request(
                    method, target, headers=hop_headers, data=body, timeout=limits, allow_redirects=False
                ) as response:
                    location = response.headers.get("Location")
                    if not (self._follow_redirects and response.status in _REDIRECTS and location):
                        return Answer(
                            response.status,
                            await _read_capped(response.content_length, response.content.iter_any(), cap),
                            _decoded_headers(response.headers),
                            response.url,
                        )
                previous, target = target, target.join(URL(location))
                if _reads_with_get(response.status, method):
                    method, body = "GET", None
                    hop_headers = _without(hop_headers, ("content-type",))
                if _leaves_origin(previous, target):
                    hop_headers = _without(hop_headers, _CREDENTIAL_HEADERS)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise OutboundUnavailable(
                f"the connection failed: {type(exc).__name__}", may_have_arrived=False
            ) from exc
        except TimeoutError as exc:
            raise OutboundUnavailable("the request timed out") from exc
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a Location that is no URL
            raise OutboundUnavailable(f"the request failed: {type(exc).__name__}") from exc
        log.warning("outbound_refused", host=target.host, reason="too many redirects")
        raise DestinationRefused("too many redirects")

    def _check(self, url: URL, trusted: Callable[[URL], bool] | None) -> URL:
        """``_check_url``, and an address written in the URL (aiohttp connects to one without
        resolving it; a host name is checked when resolved). Answers the URL to call: an IPv4
        address spelled otherwise (``2130706433``, ``0x7f.1``) is written the usual way, as the
        system's resolver reads it."""
        if trusted is not None:
            _check_url(url, trusted)
        origin = (url.scheme, url.host or "", url.port)
        if origin in self._checked:
            return url
        _check_url(url, None)
        address = _written_address(url.host or "")
        if address is not None and not self._allow_private:
            _refuse_private(url.host, [address])
        if address is not None and address != url.host:
            return url.with_host(address)  # not remembered: every call is written anew
        if len(self._checked) >= _MAX_CHECKED_ORIGINS:
            self._checked.clear()
        self._checked.add(origin)
        return url


def _written_address(host: str) -> str | None:
    """The address a URL's host is written as, in any spelling the system's resolver reads as one."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _reads_with_get(status: int, method: str) -> bool:
    """Whether a redirect's next hop is a GET without the body (httpx's rules, the browsers')."""
    return (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST")


def _without(headers: dict[str, str], names: Iterable[str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in names}


def _decoded_headers(headers: CIMultiDictProxy[str]) -> Mapping[str, str]:
    if "Content-Encoding" not in headers:
        return headers
    return CIMultiDictProxy(
        CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in _BODY_ENCODING_HEADERS)
    )


_Client = TypeVar("_Client", bound=LeanClient)


class PerLoop(Generic[_Client]):
    """One client per running event loop and ``allow_private`` setting (a connection belongs to the
    loop that opened it), made on first use and closed with ``close``."""

    def __init__(self, make: Callable[[bool], _Client]) -> None:
        self._make = make
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool, _Client]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, allow_private: bool) -> _Client:
        clients = self._clients.setdefault(asyncio.get_running_loop(), {})
        client = clients.get(allow_private)
        if client is None:
            client = clients[allow_private] = self._make(allow_private)
        return client

    async def close(self) -> None:
        """Close the running loop's clients (their kept-alive connections)."""
        for client in self._clients.pop(asyncio.get_running_loop(), {}).values():
            await client.aclose()


_shared = PerLoop(lambda allow_private: LeanClient(allow_private=allow_private, follow_redirects=True))


def shared_client(*, allow_private: bool) -> LeanClient:
    """The running loop's shared client for ``allow_private``: connections kept alive between calls,
    no cookies, redirects followed and checked, the default caps (each call passes its own
    ``timeout`` and ``max_bytes``)."""
    return _shared.get(allow_private)


async def close_shared_clients() -> None:
    """Close the running loop's shared clients (their kept-alive connections)."""
    await _shared.close()


class StreamedResponse:
    """A response whose body is read as it arrives, within the call's time and size caps."""

    def __init__(self, response: httpx.Response, max_bytes: int, deadline: float) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self._response = response
        self._max_bytes = max_bytes
        self._deadline = deadline
        self._size = 0

    async def lines(self) -> AsyncIterator[str]:
        """The body's lines as they arrive (counted by the chunk, so one endless line is capped too)."""
        pending = b""
        try:
            async for chunk in self._response.aiter_bytes():
                self._count(len(chunk))
                *complete, pending = (pending + chunk).split(b"\n")
                for line in complete:
                    yield line.rstrip(b"\r").decode("utf-8", "replace")
        except httpx.TimeoutException as exc:
            raise OutboundUnavailable("the request timed out") from exc
        except httpx.HTTPError as exc:
            raise OutboundUnavailable(f"the answer broke off: {type(exc).__name__}") from exc
        if pending:
            yield pending.rstrip(b"\r").decode("utf-8", "replace")

    async def read(self) -> bytes:
        """The rest of the body (an error's, typically)."""
        return b"\n".join([line.encode() async for line in self.lines()])

    def _count(self, size: int) -> None:
        self._size += size
        if self._size > self._max_bytes:
            raise ResponseTooLarge(f"the answer is larger than {self._max_bytes} bytes")
        if time.monotonic() > self._deadline:
            raise OutboundUnavailable("the request timed out")


class _Url(Protocol):
    """What the checks read of a URL (``httpx.URL`` and yarl's ``URL`` alike)."""

    @property
    def scheme(self) -> str: ...

    @property
    def host(self) -> str | None: ...

    @property
    def port(self) -> int | None: ...


_U = TypeVar("_U", bound=_Url)


def _check_url(url: _U, trusted: Callable[[_U], bool] | None) -> None:
    if url.scheme not in SCHEMES or not url.host:
        log.warning("outbound_refused", host=url.host, reason="not an http(s) URL")
        raise DestinationRefused("only http and https URLs are allowed")
    if trusted is not None and not trusted(url):
        log.warning("outbound_refused", host=url.host, reason="host not allowed for this call")
        raise DestinationRefused(f"{url.host} is not allowed for this request")


def _leaves_origin(previous: _Url, following: _Url) -> bool:
    return (following.scheme, following.host, following.port) != (
        previous.scheme,
        previous.host,
        previous.port,
    )


def _redirected(previous: httpx.Request, request: httpx.Request) -> httpx.Request:
    """httpx's redirect request, minus every credential once the origin changes (httpx itself keeps
    cookies and keeps ``Authorization`` on an http -> https upgrade)."""
    if _leaves_origin(previous.url, request.url):
        for name in _CREDENTIAL_HEADERS:
            request.headers.pop(name, None)
    return request


async def _read_capped(declared: int | None, chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    """The body, abandoned as soon as it (as declared, or as read after decompression) passes the cap."""
    if declared is not None and declared > max_bytes:
        raise ResponseTooLarge(f"the answer is larger than {max_bytes} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(f"the answer is larger than {max_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_ENCODING_HEADERS]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)
