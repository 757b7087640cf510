"""The one way the server calls a URL it did not write itself: the outbound-HTTP guard.

Every outbound call whose destination comes from outside (a webhook's media URL, an LLM or tool
base URL an organization configured, a connection, a data source, n8n) goes through
``OutboundClient``::

    async with OutboundClient(allow_private=settings.allow_private_urls) as http:
        response = await http.request("GET", url, headers=..., trusted=may_receive_token)

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

Callers that make many calls (the tools engine: one per tool call, for every organization) use
``shared_client(allow_private=…)``: one client per event loop and setting, whose connections stay
alive between calls. A kept-alive connection goes to the very address that was checked when it was
opened; a redirect or another host opens a connection through the same check; the client keeps no
cookies (one caller's would reach the next); ``close_shared_clients`` closes them at shutdown.

``stream`` is the same call for an answer read as it arrives (an LLM's tokens): no redirects are
followed (one is refused), and the time and size caps hold over the whole stream.

Failures are ``OutboundError``: ``DestinationRefused`` and ``ResponseTooLarge`` are final,
``OutboundUnavailable`` (timeouts, connection errors) has ``retryable = True``. HTTP error statuses
are answers, not failures: the caller reads ``response.status_code``.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import anyio
import httpcore
import httpx
import structlog

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 3
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
            refused = [a for a in addresses if not is_public_address(ipaddress.ip_address(a))]
            if refused:
                log.warning("outbound_refused", host=host, reason="private address")
                raise DestinationRefused(f"{host} resolves to a private or reserved address")
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


#: a client of its own (one caller, a few calls): httpcore's defaults
_ONE_CALLER_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=None, keepalive_expiry=None)
#: a shared client: as many connections as calls admitted (the callers bound them), a few kept alive,
#: each idle for less than the 5 s after which common servers close an idle connection
_SHARED_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=64, keepalive_expiry=4.0)


class _CookielessClient(httpx.AsyncClient):
    """An httpx client that never keeps a cookie: a shared client serves one caller after another."""

    @property
    def cookies(self) -> httpx.Cookies:
        return httpx.Cookies()

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        pass


class OutboundClient:
    """An HTTP client for URLs from outside. Use it as an async context manager (or ``aclose`` it).

    ``keep_cookies=False`` (a shared client) sends no cookie but the request's own headers."""

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        keep_cookies: bool = True,
        limits: httpx.Limits = _ONE_CALLER_LIMITS,
    ) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        client = httpx.AsyncClient if keep_cookies else _CookielessClient
        self._http = client(
            transport=_CheckedTransport(allow_private, limits),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            trust_env=False,
        )

    async def __aenter__(self) -> OutboundClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

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
                    body = await _read_capped(response, max_bytes or self._max_bytes)
                    return _with_body(response, body)
            finally:
                await response.aclose()
            request = _redirected(request, response.next_request)
        log.warning("outbound_refused", host=request.url.host, reason="too many redirects")
        raise DestinationRefused("too many redirects")


#: per event loop (a connection belongs to the loop that opened it): the shared client of each setting
_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool, OutboundClient]] = (
    weakref.WeakKeyDictionary()
)


def shared_client(*, allow_private: bool) -> OutboundClient:
    """The running loop's shared client for ``allow_private``: connections kept alive between calls,
    no cookies, the default caps (each call passes its own ``timeout`` and ``max_bytes``)."""
    clients = _shared.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(allow_private)
    if client is None:
        client = clients[allow_private] = OutboundClient(
            allow_private=allow_private, keep_cookies=False, limits=_SHARED_LIMITS
        )
    return client


async def close_shared_clients() -> None:
    """Close the running loop's shared clients (their kept-alive connections)."""
    for client in _shared.pop(asyncio.get_running_loop(), {}).values():
        await client.aclose()


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


def _check_url(url: httpx.URL, trusted: Callable[[httpx.URL], bool] | None) -> None:
    if url.scheme not in SCHEMES or not url.host:
        log.warning("outbound_refused", host=url.host, reason="not an http(s) URL")
        raise DestinationRefused("only http and https URLs are allowed")
    if trusted is not None and not trusted(url):
        log.warning("outbound_refused", host=url.host, reason="host not allowed for this call")
        raise DestinationRefused(f"{url.host} is not allowed for this request")


def _redirected(previous: httpx.Request, request: httpx.Request) -> httpx.Request:
    """httpx's redirect request, minus every credential once the origin changes (httpx itself keeps
    cookies and keeps ``Authorization`` on an http -> https upgrade)."""
    if (request.url.scheme, request.url.host, request.url.port) != (
        previous.url.scheme,
        previous.url.host,
        previous.url.port,
    ):
        for name in _CREDENTIAL_HEADERS:
            request.headers.pop(name, None)
    return request


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(f"the answer is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(f"the answer is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_ENCODING_HEADERS]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)
