"""The outbound guard's lean client for many small calls to one configured origin (the Graph API's
message sends: a campaign makes hundreds a second).

It is ``core.outbound.LeanClient`` (aiohttp, the guard's own checks: private addresses refused in
the URL and after resolution, time and size caps, no cookies), with two differences from the shared
client of ``core.outbound.shared_client``:

- **No redirects.** A call goes to the URL it was given: a redirect is answered as it is (an HTTP
  status the caller reads), never followed.
- **Bounded connections**: at most ``MAX_CONNECTIONS`` open at once, over every origin.

Failures are the guard's: ``DestinationRefused`` and ``ResponseTooLarge`` are final,
``OutboundUnavailable`` (timeouts, connection errors) says whether the request may have arrived.
"""

from __future__ import annotations

from cxinbox.core.outbound import Answer, LeanClient, PerLoop

__all__ = ["MAX_CONNECTIONS", "Answer", "BulkOutbound", "close_bulk_sessions", "shared_bulk_session"]

#: connections open at once, over every origin (the callers bound their own calls in flight)
MAX_CONNECTIONS = 256


class BulkOutbound(LeanClient):
    """One event loop's session for many small calls (``shared_bulk_session``): redirects answered."""

    def __init__(self, *, allow_private: bool) -> None:
        super().__init__(allow_private=allow_private, follow_redirects=False, max_connections=MAX_CONNECTIONS)


_sessions = PerLoop(lambda allow_private: BulkOutbound(allow_private=allow_private))


def shared_bulk_session(*, allow_private: bool) -> BulkOutbound:
    """The running loop's session for ``allow_private``, made on first use."""
    return _sessions.get(allow_private)


async def close_bulk_sessions() -> None:
    """Close the running loop's sessions (their kept-alive connections)."""
    await _sessions.close()
