"""A group commit of a process's turns: the phases of turns that reach the database together share
one transaction (``turn`` starts its turns through one, ``turn_endings`` ends them through another).

Under a burst hundreds of turns of a process start, and later finish, within moments of each other.
Each phase in a transaction of its own paid its BEGIN and COMMIT and its statements of its own: most
of a turn's CPU. While one group is written, the phases that come meanwhile wait and are written
together in the next group (at most ``size``), in one transaction, by one call of the group's
``write``, which answers each item's outcome (``then`` may follow, outside the transaction). A phase
that comes while nothing is being written is written at once, a group of one in its job's own
session and phase, as it was alone; the groups after it are written by a task of their own, in a
session of their own.

What fails for one item touches no other:
- ``write`` raises ``Lost`` naming items whose writes must not stand (a turn whose lease another
  worker holds now): the group's transaction is rolled back and the group written again without
  them (their outcome is None: nothing more to do);
- when the group's transaction fails, each of its items is written again alone: an item whose own
  write fails then fails its job alone (retried by the job queue, as a phase written alone was).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.db import WritePriority, write_priority
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: writes a group's items in the session's transaction; answers each item's outcome, in order (an
#: outcome that is an exception is raised in that item's caller)
Write = Callable[[AsyncSession, Runtime, list[T]], Awaitable[list[R]]]
#: what follows a group's commit, outside its transaction: answers the outcomes it is given, changed
Then = Callable[[Runtime, list[R]], Awaitable[list[R]]]


class Lost(Exception):
    """Rolls a group's transaction back: these items' writes must not stand (their outcome: None)."""

    def __init__(self, lost: list[object]) -> None:
        super().__init__(f"{len(lost)} lost")
        self.lost = lost


class GroupCommit(Generic[T, R]):
    """One kind of phase of a process's turns, written in groups (one per runtime and ``write``:
    ``group_commit_of``)."""

    def __init__(self, runtime: Runtime, write: Write[T, R], size: int, then: Then[R] | None) -> None:
        self._runtime = runtime
        self._write_items = write
        self._then = then
        self.size = size
        self.loop = asyncio.get_running_loop()
        self._waiting: list[_Waiting[T, R]] = []
        #: an item written by its own caller (nothing else was being written when it came)
        self._alone = False
        self._writer: asyncio.Task[None] | None = None

    async def write(self, item: T, session: AsyncSession) -> R | None:
        """Write ``item``: at once when nothing is being written (a group of one, in the caller's
        task and ``session``, as a phase: ``core.db_phases``), else with the others that wait
        meanwhile (in a session of their own). Answers its outcome (None when it was lost); raises
        what failed its write (alone)."""
        future: asyncio.Future[R | None] = asyncio.get_running_loop().create_future()
        if self._alone or (self._writer is not None and not self._writer.done()):
            self._waiting.append((item, future))
            return await future
        self._alone = True
        try:
            await self._write([(item, future)], session)
        finally:  # those that came meanwhile are the next group's
            self._alone = False
            if self._waiting:
                self._writer = asyncio.create_task(self._write_waiting())
        return future.result()

    async def _write_waiting(self) -> None:
        try:
            with write_priority(WritePriority.BACKGROUND):  # a job's transaction, whoever started it
                while self._waiting:
                    group, self._waiting = self._waiting[: self.size], self._waiting[self.size :]
                    await self._write(group)
        finally:  # normally nothing waits then; after a cancellation, what waited is cancelled too
            self._writer = None
            for _, future in self._waiting:
                future.cancel()
            self._waiting = []

    async def _write(self, group: list[_Waiting[T, R]], session: AsyncSession | None = None) -> None:
        try:
            async with self._transaction(session) as writing:
                outcomes = await self._write_items(writing, self._runtime, [item for item, _ in group])
        except Lost as rolled_back:
            lost = {id(item) for item in rolled_back.lost}  # items are told apart by identity
            _settle([future for item, future in group if id(item) in lost], None)
            rest = [waiting for waiting in group if id(waiting[0]) not in lost]
            if rest:
                await self._write(rest, session)
        except Exception as failed:
            if len(group) == 1:
                _fail(group[0][1], failed)
                return
            log.warning("bot_turn_group_failed", turns=len(group), error=repr(failed))
            for waiting in group:
                await self._write([waiting])
        except BaseException:
            for _, future in group:
                future.cancel()
            raise
        else:
            await self._settle_after(group, outcomes)

    async def _settle_after(self, group: list[_Waiting[T, R]], outcomes: list[R]) -> None:
        """Settle a committed group, with what ``then`` makes of its outcomes (what it raises is
        raised in every caller)."""
        try:
            if self._then is not None:
                outcomes = await self._then(self._runtime, outcomes)
        except Exception as failed:
            for _, future in group:
                _fail(future, failed)
            return
        except BaseException:
            for _, future in group:
                future.cancel()
            raise
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, Exception):
                _fail(future, outcome)
            else:
                _settle([future], outcome)

    @asynccontextmanager
    async def _transaction(self, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        """A phase of ``session``, else a unit of work of its own within the phases' bound."""
        if session is not None:
            async with self._runtime.db_phases.phase(session):
                yield session
            return
        async with self._runtime.db_phases.slot(), self._runtime.unit_of_work() as own:
            yield own


_Waiting = tuple[T, "asyncio.Future[R | None]"]


def _settle(futures: list[asyncio.Future[R | None]], outcome: R | None) -> None:
    for future in futures:
        if not future.done():  # else its job was cancelled meanwhile
            future.set_result(outcome)


def _fail(future: asyncio.Future[R | None], failed: Exception) -> None:
    if not future.done():
        future.set_exception(failed)


_GROUPS: weakref.WeakKeyDictionary[Runtime, dict[object, GroupCommit]] = weakref.WeakKeyDictionary()


def group_commit_of(
    runtime: Runtime, write: Write[T, R], size: int, then: Then[R] | None = None
) -> GroupCommit[T, R]:
    """The runtime's group commit of ``write`` (of the running event loop: a runtime started again
    in another loop gets a new one), each group's commit followed by ``then``."""
    groups = _GROUPS.setdefault(runtime, {})
    found = groups.get(write)
    if found is None or found.loop is not asyncio.get_running_loop():
        found = groups[write] = GroupCommit(runtime, write, size, then)
    return found
