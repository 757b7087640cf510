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

``Precedence`` lets the requests that must be answered fast (webhook deliveries, whose senders retry
and whose acknowledgement is a promise to process) go first: while one is in flight, a tool request
gives way at its checkpoints, before it enters the app, before its call to the business's API and
once that API has answered (``FairAdmission.give_way``, before the answer is read and the response
written), so the event loop's turns go to the webhook. A tool request gives way for at most
``max_give_way`` seconds at each, so a stream of webhooks slows tool calls down but never stops them.

Besides the event loop, what a tool request holds that an acknowledgement may wait for is little: a
tool test reads in a read session (on SQLite outside the write gate, ended before the call) and
writes nothing (its log line is not a row); an agent's ``execute`` writes its timeline and audit
entries after the call, in one short transaction at the gate like any request's.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

from cxinbox.core.errors import RateLimited
from cxinbox.core.http import send_error


class AdmissionBusy(RateLimited):
    message = "Too many calls of this kind are running; try again shortly"


#: the longest a tool request gives way to webhooks at one checkpoint (its starvation guard)
GIVE_WAY_SECONDS = 0.1


class Precedence:
    """Requests that go first (``going_first``) and the others that give way to them (``give_way``)."""

    def __init__(self, max_give_way: float = GIVE_WAY_SECONDS) -> None:
        self.max_give_way = max_give_way
        #: requests that go first, in flight now
        self.ahead = 0
        self._clear: asyncio.Event | None = None

    @contextmanager
    def going_first(self) -> Iterator[None]:
        self.ahead += 1
        try:
            yield
        finally:
            self.ahead -= 1
            if not self.ahead and self._clear is not None:
                self._clear.set()
                self._clear = None

    async def give_way(self) -> None:
        """Return once no request that goes first is in flight, or after ``max_give_way`` seconds
        (at once, without a turn of the loop, when none is)."""
        if not self.ahead or self.max_give_way <= 0:
            return
        if self._clear is None:
            self._clear = asyncio.Event()
        try:
            async with asyncio.timeout(self.max_give_way):
                await self._clear.wait()
        except TimeoutError:
            return


class FairAdmission:
    def __init__(
        self, total: int, per_organization: int, max_wait: float, precedence: Precedence | None = None
    ) -> None:
        self.total = total
        self.per_organization = min(per_organization, total)
        self.max_wait = max_wait
        #: admitted callers give way to it before they go on (``None``: they never do)
        self.precedence = precedence
        self._running: Counter[str] = Counter()
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def running(self) -> int:
        return sum(self._running.values())

    def waiting(self, organization_id: str) -> int:
        return len(self._waiting.get(organization_id, ()))

    @asynccontextmanager
    async def slot(self, organization_id: str) -> AsyncIterator[None]:
        await self.admit(organization_id)
        try:
            await self.give_way()
            yield
        finally:
            self.release(organization_id)

    async def give_way(self) -> None:
        """An admitted caller's checkpoint between two stretches of its work: wait while requests
        that go first are in flight (``Precedence.give_way``; at once when there is none)."""
        if self.precedence is not None:
            await self.precedence.give_way()

    async def admit(self, organization_id: str) -> None:
        """Take a slot, waiting for one if need be (``slot`` is the usual way: it gives it back with
        ``release``)."""
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
                self.release(organization_id)  # admitted as the wait ended: give the slot back
            else:
                self._withdraw(organization_id, turn)
            if isinstance(exc, TimeoutError):
                raise AdmissionBusy(retry_after=math.ceil(self.max_wait)) from None
            raise

    def _has_room(self, organization_id: str) -> bool:
        return self.running < self.total and self._running[organization_id] < self.per_organization

    def release(self, organization_id: str) -> None:
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


Routes = list[tuple[re.Pattern[str], set[str]]]


class ToolCallGate:
    """Pure ASGI middleware: requests to ``routes`` (``(path pattern, methods)``, see
    ``core.http.route_patterns``) wait for a slot of ``admission(scope)`` before the app sees them,
    and hold it until answered; a wait past the bound's ``max_wait`` is answered 429 here. Requests
    to ``ahead`` (webhook deliveries) are counted as going first while in flight, and the admission's
    ``precedence`` has the admitted tool requests give way to them; every other request (health
    checks) passes untouched."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Routes,
        admission: Callable[[Scope], FairAdmission],
        ahead: Routes | None = None,
    ) -> None:
        self.app = app
        self.routes = routes
        self.admission = admission
        self.ahead = ahead or []

    def gated(self, method: str, path: str) -> bool:
        return _matches(self.routes, method, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if _matches(self.ahead, method, path):
            precedence = self.admission(scope).precedence
            if precedence is not None:
                with precedence.going_first():
                    await self.app(scope, receive, send)
                return
        if not _matches(self.routes, method, path):
            await self.app(scope, receive, send)
            return
        # ``slot``'s steps written out: an async context manager costs a request a generator and
        # an exit stack, on the path of every tool request
        admission, caller = self.admission(scope), caller_key(scope)
        try:
            await admission.admit(caller)
        except AdmissionBusy as busy:
            await send_error(send, busy)
            return
        try:
            await admission.give_way()
            await self.app(scope, receive, send)
        finally:
            admission.release(caller)


def _matches(routes: Routes, method: str, path: str) -> bool:
    return any(method in methods and pattern.match(path) for pattern, methods in routes)


def caller_key(scope: Scope) -> str:
    """A digest of the request's credential headers: the same caller, the same key (a request
    without one shares the key of every other such request)."""
    digest = hashlib.blake2b(digest_size=16)
    for name, value in scope["headers"]:
        if name.lower() in _CREDENTIAL_HEADERS:
            digest.update(name.lower() + b":" + value + b"\n")
    return digest.hexdigest()
