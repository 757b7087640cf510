"""The bound on the llm queue's database phases: each phase is a unit of work of its own, and no more
than the limit run at once, the others waiting before they take a connection."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from cxinbox.core.db import after_commit, after_rollback, create_engine, create_sessionmaker
from cxinbox.core.db_phases import DbPhases


async def test_a_phase_commits_with_its_hooks_and_a_failing_one_rolls_back(runtime):
    phases = DbPhases(1)
    released: list[str] = []

    async def note(what: str) -> None:
        released.append(what)

    async with runtime.sessionmaker() as session:
        async with phases.phase(session):
            await session.execute(text("SELECT 1"))
            after_commit(session, lambda: note("committed"))
        assert not session.in_transaction() and released == ["committed"]
        with pytest.raises(RuntimeError):
            async with phases.phase(session):
                await session.execute(text("SELECT 1"))
                after_commit(session, lambda: note("never"))
                after_rollback(session, lambda: note("rolled back"))
                raise RuntimeError("the phase failed")
        assert not session.in_transaction() and released == ["committed", "rolled back"]


async def test_no_more_phases_run_at_once_than_the_limit_and_each_holds_a_connection_only_inside(runtime):
    phases = DbPhases(3)
    inside, peak = 0, 0
    # an engine of the test's own: the runtime's pool is shared with its periodic tasks, which may
    # hold a connection at any moment
    engine = create_engine(runtime.settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    pool = engine.pool

    async def one() -> None:
        nonlocal inside, peak
        async with sessionmaker() as session:
            for _ in range(2):
                async with phases.phase(session):
                    inside += 1
                    peak = max(peak, inside)
                    await session.execute(text("SELECT 1"))
                    await asyncio.sleep(0.01)
                    inside -= 1
                await asyncio.sleep(0.01)  # between phases: no connection held

    try:
        await asyncio.gather(*(one() for _ in range(40)))
        assert peak == 3
        assert pool.checkedout() == 0
    finally:
        await engine.dispose()
