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
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cxinbox.core.errors import RateLimited


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
