"""How much of one kind of work a process runs at once: a bound on the whole process and one per
organization, with the callers that must wait served in turn.

The runtime's ``tool_calls`` bounds the calls to the businesses' APIs (tools): each is mostly a wait
on someone else, but also CPU in the process's one event loop, the loop that also acknowledges
webhooks. Calls beyond ``total`` wait; so do an organization's beyond ``per_organization``, so one
tenant's flood cannot take every slot. When a slot frees, the waiting organizations take it in turn
(round robin), each organization's callers first come, first served. A caller that waits longer
than ``max_wait`` gets ``AdmissionBusy`` (429 ``RATE_LIMITED`` with ``Retry-After``)::

    async with runtime.tool_calls.slot(organization_id):
        ...  # the call

``ToolCallGate`` applies the same bound at the edge of the app, before a request to a route that
calls a business's API is routed, authenticated or its body read: the callers beyond the bound wait
there, where waiting costs the event loop next to nothing. The organization is not known yet, so
the edge's shares are per credential (the ``Authorization`` or ``X-API-Key`` header): one caller's
flood cannot hold the edge's slots, and the per-organization bound still applies in the route.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

from cxinbox.core.errors import RateLimited
from cxinbox.core.http import send_error


class AdmissionBusy(RateLimited):
    message = "Too many calls of this kind are running; try again shortly"


class FairAdmission:
    def __init__(self, total: int, per_organization: int, max_wait: float) -> None:
        self.total = total
        self.per_organization = min(per_organization, total)
        self.max_wait = max_wait
        self._running: Counter[str] = Counter()
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def running(self) -> int:
        return sum(self._running.values())

    def waiting(self, organization_id: str) -> int:
        return len(self._waiting.get(organization_id, ()))

    @asynccontextmanager
    async def slot(self, organization_id: str) -> AsyncIterator[None]:
        await self._admit(organization_id)
        try:
            yield
        finally:
            self._release(organization_id)

    async def _admit(self, organization_id: str) -> None:
        if organization_id not in self._waiting and self._has_room(organization_id):
            self._running[organization_id] += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(organization_id, deque()).append(turn)
        try:
            async with asyncio.timeout(self.max_wait):
                await turn
        except (TimeoutError, asyncio.CancelledError) as exc:
            if turn.done() and not turn.cancelled():
                self._release(organization_id)  # admitted as the wait ended: give the slot back
            else:
                self._withdraw(organization_id, turn)
            if isinstance(exc, TimeoutError):
                raise AdmissionBusy(retry_after=math.ceil(self.max_wait)) from None
            raise

    def _has_room(self, organization_id: str) -> bool:
        return self.running < self.total and self._running[organization_id] < self.per_organization

    def _release(self, organization_id: str) -> None:
        self._running[organization_id] -= 1
        if self._running[organization_id] <= 0:
            del self._running[organization_id]
        self._admit_waiting()

    def _withdraw(self, organization_id: str, turn: asyncio.Future[None]) -> None:
        queue = self._waiting.get(organization_id)
        if queue is not None and turn in queue:
            queue.remove(turn)
            if not queue:
                del self._waiting[organization_id]

    def _admit_waiting(self) -> None:
        """Give free slots to the waiting organizations in turn: the first one with room takes one and
        goes to the back of the line."""
        while self.running < self.total:
            ready = next((org for org in self._waiting if self._has_room(org)), None)
            if ready is None:
                return
            queue = self._waiting.pop(ready)
            turn = queue.popleft()
            if queue:
                self._waiting[ready] = queue  # to the back of the line
            if turn.cancelled():
                continue  # its caller stopped waiting and has not withdrawn yet
            self._running[ready] += 1
            turn.set_result(None)


#: the request headers that carry a credential (the edge's fairness key)
_CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")


class ToolCallGate:
    """Pure ASGI middleware: requests to ``routes`` (``(path pattern, methods)``, see
    ``core.http.route_patterns``) wait for a slot of ``admission(scope)`` before the app sees them,
    and hold it until answered; a wait past the bound's ``max_wait`` is answered 429 here. Every
    other request (webhooks, health checks) passes untouched."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: list[tuple[re.Pattern[str], set[str]]],
        admission: Callable[[Scope], FairAdmission],
    ) -> None:
        self.app = app
        self.routes = routes
        self.admission = admission

    def gated(self, method: str, path: str) -> bool:
        return any(method in methods and pattern.match(path) for pattern, methods in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.gated(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        async with AsyncExitStack() as held:
            try:
                await held.enter_async_context(self.admission(scope).slot(caller_key(scope)))
            except AdmissionBusy as busy:
                await send_error(send, busy)
                return
            await self.app(scope, receive, send)


def caller_key(scope: Scope) -> str:
    """A digest of the request's credential headers: the same caller, the same key (a request
    without one shares the key of every other such request)."""
    digest = hashlib.blake2b(digest_size=16)
    for name, value in scope["headers"]:
        if name.lower() in _CREDENTIAL_HEADERS:
            digest.update(name.lower() + b":" + value + b"\n")
    return digest.hexdigest()
