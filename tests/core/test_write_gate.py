"""The SQLite write gate: a request's transaction goes before the jobs' queued ones, the jobs are
never starved, and a wait that ends (timed out, cancelled) leaves the gate working.

Ordering, not timing: transactions are queued while another holds the gate, then the holder
commits and the order in which the waiters got the gate is compared."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cxinbox.core import db
from cxinbox.core.db import (
    FOREGROUND_AHEAD_OF_BACKGROUND,
    WriteGate,
    WritePriority,
    after_commit,
    create_engine,
    create_sessionmaker,
    current_write_priority,
    unit_of_work,
    write_gate_of,
    write_priority,
)
from cxinbox.core.jobs import enqueue, job
from tests.fixtures.wait import eventually

FOREGROUND, BACKGROUND = WritePriority.FOREGROUND, WritePriority.BACKGROUND


@pytest.fixture
async def engine(tmp_path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
    yield engine
    await engine.dispose()


def gate_of(engine: AsyncEngine) -> WriteGate:
    gate = write_gate_of(engine)
    assert gate is not None
    return gate


class Turns:
    """The order in which named transactions took the gate (``begin`` runs once it is taken)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.taken: list[str] = []
        self.sessionmaker = create_sessionmaker(engine)
        self._gate = gate_of(engine)

    async def write(
        self, name: str, priority: WritePriority, holding: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """``name``'s transaction; ``holding`` runs while it holds the gate."""
        with write_priority(priority):
            async with unit_of_work(self.sessionmaker) as session:
                await session.execute(text("INSERT INTO t (name) VALUES (:name)"), {"name": name})
                self.taken.append(name)
                if holding is not None:
                    await holding()

    async def queue(
        self, name: str, priority: WritePriority, holding: Callable[[], Awaitable[None]] | None = None
    ) -> asyncio.Task[None]:
        """Start ``name``'s transaction and return once it waits for the gate."""
        waiting = self._gate.waiting(priority)
        task = asyncio.create_task(self.write(name, priority, holding))
        while self._gate.waiting(priority) == waiting:
            assert not task.done()
            await asyncio.sleep(0)
        return task


async def holding_the_gate(
    engine: AsyncEngine, *, then: Callable[[], Awaitable[None]] | None = None
) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """A background transaction that holds the gate until the returned event is set; ``then`` runs
    right after its commit, before any waiter handed the gate runs again."""
    held, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        with write_priority(BACKGROUND):
            async with unit_of_work(create_sessionmaker(engine)) as session:
                await session.execute(text("INSERT INTO t (name) VALUES ('holder')"))
                if then is not None:
                    after_commit(session, then)
                held.set()
                await release.wait()

    task = asyncio.create_task(hold())
    await held.wait()
    return release, task


async def test_a_foreground_transaction_takes_the_gate_before_the_queued_background_ones(engine):
    turns = Turns(engine)
    release, holder = await holding_the_gate(engine)
    queued = [await turns.queue(f"job {n}", BACKGROUND) for n in range(3)]
    queued.append(await turns.queue("request", FOREGROUND))
    release.set()
    await asyncio.gather(holder, *queued)
    assert turns.taken == ["request", "job 0", "job 1", "job 2"]


async def test_transactions_of_one_priority_take_the_gate_in_arrival_order(engine):
    turns = Turns(engine)
    release, holder = await holding_the_gate(engine)
    queued = [await turns.queue(f"request {n}", FOREGROUND) for n in range(3)]
    queued += [await turns.queue(f"job {n}", BACKGROUND) for n in range(3)]
    release.set()
    await asyncio.gather(holder, *queued)
    assert turns.taken == [f"request {n}" for n in range(3)] + [f"job {n}" for n in range(3)]


async def test_a_waiting_background_transaction_goes_after_a_bounded_number_of_foreground_ones(engine):
    turns = Turns(engine)
    release, holder = await holding_the_gate(engine)
    queued = [await turns.queue("job", BACKGROUND)]
    requests = FOREGROUND_AHEAD_OF_BACKGROUND + 3
    queued += [await turns.queue(f"request {n}", FOREGROUND) for n in range(requests)]
    release.set()
    await asyncio.gather(holder, *queued)
    first = [f"request {n}" for n in range(FOREGROUND_AHEAD_OF_BACKGROUND)]
    rest = [f"request {n}" for n in range(FOREGROUND_AHEAD_OF_BACKGROUND, requests)]
    assert turns.taken == [*first, "job", *rest]


async def test_a_stream_of_requests_arriving_while_jobs_wait_never_starves_them(engine):
    """Requests that keep arriving (each one queued while the previous one holds the gate) still let
    the waiting jobs through, one after every ``FOREGROUND_AHEAD_OF_BACKGROUND`` of them."""
    turns = Turns(engine)
    release, holder = await holding_the_gate(engine)
    jobs = [await turns.queue(f"job {n}", BACKGROUND) for n in range(2)]
    count = 3 * FOREGROUND_AHEAD_OF_BACKGROUND
    requests: list[asyncio.Task[None]] = []

    async def request(n: int) -> None:
        if n < count:
            requests.append(await turns.queue(f"request {n}", FOREGROUND, lambda: request(n + 1)))

    await request(0)
    release.set()
    await asyncio.gather(holder, *jobs)
    while not all(task.done() for task in requests):
        await asyncio.gather(*requests)
    ahead = FOREGROUND_AHEAD_OF_BACKGROUND
    names = [f"request {n}" for n in range(count)]
    assert turns.taken == [*names[:ahead], "job 0", *names[ahead : 2 * ahead], "job 1", *names[2 * ahead :]]


@pytest.mark.parametrize("ending", ["timeout", "cancel"])
async def test_a_wait_that_ends_leaves_its_place(engine, monkeypatch, ending):
    """Past the busy timeout a wait fails as SQLite's would ("database is locked"); cancelled, it
    ends quietly; either way it leaves the queue and the gate goes to the next waiter."""
    turns = Turns(engine)
    gate = gate_of(engine)
    release, holder = await holding_the_gate(engine)
    if ending == "timeout":
        monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 50)
        with pytest.raises(sqlite3.OperationalError, match="write gate timeout"):
            await turns.write("too late", FOREGROUND)
        monkeypatch.undo()
    else:
        gone = await turns.queue("cancelled", FOREGROUND)
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
    assert gate.waiting(FOREGROUND) == 0
    last = await turns.queue("job", BACKGROUND)
    release.set()
    await asyncio.gather(holder, last)
    assert turns.taken == ["job"]


async def test_a_wait_cancelled_as_it_is_handed_the_gate_hands_it_on(engine):
    turns = Turns(engine)
    gate = gate_of(engine)
    handed: list[asyncio.Task[None]] = []

    async def cancel_the_next() -> None:
        assert gate.waiting(FOREGROUND) == 0  # the holder's commit has handed it the gate
        handed[0].cancel()

    release, holder = await holding_the_gate(engine, then=cancel_the_next)
    handed.append(await turns.queue("cancelled", FOREGROUND))
    last = await turns.queue("job", BACKGROUND)
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await handed[0]
    await last
    await turns.write("after", FOREGROUND)  # and the gate is free again
    assert turns.taken == ["job", "after"]


RECORDED: list[WritePriority] = []


@job("tests.record_write_priority", attempts=1)
async def record_write_priority(_runtime, _session) -> None:
    RECORDED.append(current_write_priority())


async def test_the_runtime_runs_jobs_in_the_background_and_requests_keep_the_foreground(runtime):
    assert current_write_priority() is FOREGROUND
    async with runtime.unit_of_work() as session:
        enqueue(session, record_write_priority)
    await eventually(lambda: RECORDED == [BACKGROUND], "the job ran in the background")
