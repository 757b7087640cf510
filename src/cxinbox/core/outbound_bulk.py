"""The outbound guard's lean client, for many small calls to one configured origin (the Graph API's
message sends: a campaign makes hundreds a second).

It keeps the guard's promises (``core.outbound``) for what it does, on aiohttp, whose request
costs about a tenth of the CPU of httpx's (measured against the fake Graph API: 0.16–0.20 ms
against 2.0 ms per JSON POST on a kept-alive connection; at a thousand sends a second that is the
difference between a fifth of a core and two cores). This module alone uses aiohttp; every other
outbound call goes through ``OutboundClient`` (httpx).

- **No private destinations.** A host name is resolved by ``_CheckedResolver``: every address must
  be public (``outbound.is_public_address``) unless ``allow_private``, and the connection is made to
  the addresses it answered (aiohttp's DNS cache holds only those). An address written in the URL
  (which aiohttp does not resolve) is checked here, once per origin.
- **No redirects.** A call goes to the URL it was given: a redirect is answered as it is (an HTTP
  status the caller reads), never followed.
- **Bounded.** The whole call (connection, request, answer) ends within ``timeout`` seconds, the
  connection within ``connect_timeout``; an answer over ``max_bytes`` (after decompression) is
  abandoned while it is read.
- **No cookies**, and nothing of a call reaches the next but the kept-alive connection (the
  session is shared by every caller of the event loop, each call brings its own credentials).

Failures are the guard's: ``DestinationRefused`` and ``ResponseTooLarge`` are final,
``OutboundUnavailable`` (timeouts, connection errors) says whether the request may have arrived.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import weakref
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from cxinbox.core.outbound import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    SCHEMES,
    DestinationRefused,
    OutboundUnavailable,
    ResponseTooLarge,
    is_public_address,
    tls_context,
)

log = structlog.get_logger(__name__)

#: connections open at once, over every origin (the callers bound their own calls in flight)
MAX_CONNECTIONS = 256
#: an idle connection is closed after this long: under the 5 s after which common servers close one
KEEPALIVE_SECONDS = 4.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class _CheckedResolver(AbstractResolver):
    """The system's resolver, refusing a host with any non-public address."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._resolver = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        if not self._allow_private and any(not _public(result["host"]) for result in found):
            log.warning("outbound_refused", host=host, reason="private address")
            raise DestinationRefused(f"{host} resolves to a private or reserved address")
        return found

    async def close(self) -> None:
        await self._resolver.close()


def _public(address: str) -> bool:
    return is_public_address(ipaddress.ip_address(address.split("%", 1)[0]))


class BulkOutbound:
    """One event loop's session for many small calls (``shared_bulk_session``)."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._checked: set[tuple[str, str, int | None]] = set()
        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS,
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
        url: str,
        *,
        timeout: float,  # noqa: ASYNC109 - the call's own cap, applied by the session
        max_bytes: int,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> Answer:
        """Send the request and answer its status and whole body (redirects are not followed)."""
        target = URL(url)
        self._check(target)
        limits = aiohttp.ClientTimeout(total=timeout, connect=min(DEFAULT_CONNECT_TIMEOUT_SECONDS, timeout))
        try:
            async with self._session.request(
                method, target, headers=headers, json=json, timeout=limits, allow_redirects=False
            ) as response:
                return Answer(response.status, await _read_capped(response, max_bytes))
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise OutboundUnavailable(
                f"the connection failed: {type(exc).__name__}", may_have_arrived=False
            ) from exc
        except TimeoutError as exc:
            raise OutboundUnavailable("the request timed out") from exc
        except aiohttp.ClientError as exc:
            raise OutboundUnavailable(f"the request failed: {type(exc).__name__}") from exc

    def _check(self, url: URL) -> None:
        """The scheme, and an address written in the URL (a host name is checked when resolved)."""
        origin = (url.scheme, url.host or "", url.port)
        if origin in self._checked:
            return
        if url.scheme not in SCHEMES or not url.host:
            log.warning("outbound_refused", host=url.host, reason="not an http(s) URL")
            raise DestinationRefused("only http and https URLs are allowed")
        try:
            literal = ipaddress.ip_address(url.host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None and not self._allow_private and not is_public_address(literal):
            log.warning("outbound_refused", host=url.host, reason="private address")
            raise DestinationRefused(f"{url.host} is a private or reserved address")
        self._checked.add(origin)


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    if response.content_length is not None and response.content_length > max_bytes:
        raise ResponseTooLarge(f"the answer is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    while chunk := await response.content.readany():
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(f"the answer is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


#: per event loop (a connection belongs to the loop that opened it): the session of each setting
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool, BulkOutbound]] = (
    weakref.WeakKeyDictionary()
)


def shared_bulk_session(*, allow_private: bool) -> BulkOutbound:
    """The running loop's session for ``allow_private``, made on first use."""
    sessions = _sessions.setdefault(asyncio.get_running_loop(), {})
    session = sessions.get(allow_private)
    if session is None:
        session = sessions[allow_private] = BulkOutbound(allow_private=allow_private)
    return session


async def close_bulk_sessions() -> None:
    """Close the running loop's sessions (their kept-alive connections)."""
    for session in _sessions.pop(asyncio.get_running_loop(), {}).values():
        await session.aclose()
