"""The durable job schedule (table ``scheduled_jobs``): retries, delayed jobs and debounced bursts
wait here, not in a sleeping coroutine, so a restart loses none of them.

Rows are written in the caller's transaction (a rolled-back unit of work schedules nothing). A
worker process releases due rows to the broker: it kicks them, then deletes them in the same
transaction, claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so two workers never release the
same row (on SQLite the write gate serializes them). A kick whose transaction then fails to commit
runs again later: jobs run at least once, as with every broker.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Delete, bindparam, case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cxinbox.core.clock import utcnow
from cxinbox.core.db import read_session, unit_of_work
from cxinbox.core.ids import new_id
from cxinbox.models.jobs import ScheduledJob

#: due rows released per transaction
RELEASE_BATCH = 200

#: a debounced run due at once of a job that takes its own stored run (``jobs.job(takes_its_run=True)``)
#: is kicked straight after the commit; its stored row is only what a crash before that kick leaves,
#: due this much later (a job that has not begun by then is kicked again: it must be idempotent)
HANDED_OVER_FALLBACK = timedelta(seconds=30)
#: the ``attempt`` of such a row: handed over, not yet taken by its job (``forget_handed_over``)
HANDED_OVER = 0

#: ``kick(job, kwargs, attempt)``: hand one job to the broker
Kick = Callable[[str, dict[str, Any], int], Awaitable[None]]


def schedule(
    session: AsyncSession,
    job: str,
    queue: str,
    kwargs: dict[str, Any],
    delay: float,
    *,
    attempt: int = 1,
    last_error: str | None = None,
) -> None:
    """Store ``job`` to be queued ``delay`` seconds from now, in ``session``'s transaction."""
    session.add(
        ScheduledJob(
            id=new_id(),
            job=job,
            queue=queue,
            kwargs=kwargs,
            attempt=attempt,
            run_at=utcnow() + timedelta(seconds=delay),
            last_error=last_error[:500] if last_error else None,
        )
    )


def debounce_key(job: str, key: str) -> str:
    """The ``debounce_key`` of ``job``'s pending run for the caller's ``key``."""
    return f"{job}:{key}"


@dataclass(frozen=True)
class DebouncedRun:
    """One call of a debounced job (see ``debounce``): its caller's key, the arguments its run
    takes, and its timing (``max_wait`` by default ten times ``delay``)."""

    key: str
    kwargs: dict[str, Any]
    delay: float
    max_wait: float | None = None

    @property
    def longest_wait(self) -> float:
        return self.max_wait if self.max_wait is not None else self.delay * 10

    @property
    def due_now(self) -> bool:
        return min(self.delay, self.longest_wait) <= 0


async def debounce(
    session: AsyncSession, job: str, queue: str, runs: Iterable[DebouncedRun], *, handed_over: bool = False
) -> None:
    """Store or push back the pending run of ``job`` for each run's key: it runs ``delay`` seconds
    after the last call of a burst, with that call's ``kwargs``, and no later than ``max_wait``
    seconds after the burst's first call. One upsert run once per key (an executemany), safe
    under concurrent calls; the keys are written in order, so two such calls lock rows alike.
    Calls with the same key among ``runs`` are one burst, as if made one after another.

    With ``handed_over`` a run whose burst ends with a call due now is kicked by the caller after
    the commit: its row is stored ``HANDED_OVER`` (the job deletes it: ``forget_handed_over``), due
    ``HANDED_OVER_FALLBACK`` from now, the schedule's fallback should the kick never happen."""
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        key = debounce_key(job, run.key)
        run_by = rows[key]["run_by"] if key in rows else now + timedelta(seconds=run.longest_wait)
        run_at = min(now + timedelta(seconds=min(run.delay, run.longest_wait)), run_by)
        rows[key] = {"kwargs": run.kwargs, "run_at": run_at, "run_by": run_by, "attempt": 1}
        if handed_over and run.due_now:
            fallback = now + HANDED_OVER_FALLBACK
            rows[key] |= {"run_at": fallback, "run_by": fallback, "attempt": HANDED_OVER}
    ordered = [
        {"id": new_id(), "job": job, "queue": queue, "debounce_key": key, "created_at": now, **row}
        for key, row in sorted(rows.items())
    ]
    if ordered:
        await session.execute(_debounce_statement(session.get_bind().dialect.name), ordered)


@functools.cache
def _debounce_statement(dialect: str) -> Any:
    """``debounce``'s upsert of one row, its values bound per row (executed once per row set, an
    executemany): built and compiled once per dialect, where a multi-row VALUES statement built per
    call cost ten times its execution."""
    from sqlalchemy.dialects import postgresql, sqlite

    table = ScheduledJob.__table__
    dialect_insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    insert = dialect_insert(table)
    pushed_back, attempt = insert.excluded.run_at, insert.excluded.attempt
    # a hand-over's row times its fallback from the last one, and a call after a hand-over
    # starts a burst of its own (as if the handed-over run had left the schedule already)
    fresh = or_(attempt == HANDED_OVER, table.c.attempt == HANDED_OVER)
    return insert.on_conflict_do_update(
        index_elements=[table.c.debounce_key],
        set_={
            "kwargs": insert.excluded.kwargs,
            "run_at": case(
                (fresh, pushed_back), (pushed_back < table.c.run_by, pushed_back), else_=table.c.run_by
            ),
            "run_by": case((fresh, insert.excluded.run_by), else_=table.c.run_by),
            "attempt": attempt,
        },
    )


async def forget_handed_over(session: AsyncSession, job: str, keys: Collection[str], since: datetime) -> None:
    """Delete the stored rows of ``job``'s runs of ``keys`` that were handed over (``debounce``)
    before ``since``: the job, in its transaction that reads what it acts on, and last in it (the
    writers of those rows lock them after what they write, the job's conversations for a bot turn).
    ``since`` is taken before those reads, so a row a later call handed over again (its fallback
    later) stays with its own kick; a row locked by a transaction still writing it is skipped (it
    kicks its own job). One statement, built once."""
    keys = [debounce_key(job, key) for key in keys]
    await session.execute(_FORGET_HANDED_OVER, {"keys": keys, "until": since + HANDED_OVER_FALLBACK})


def _forget_handed_over() -> Delete:
    claimed = (
        select(ScheduledJob.id)
        .where(
            ScheduledJob.debounce_key.in_(bindparam("keys", expanding=True)),
            ScheduledJob.attempt == HANDED_OVER,
            ScheduledJob.run_at <= bindparam("until", type_=ScheduledJob.run_at.type),
        )
        .with_for_update(skip_locked=True)
    )
    return delete(ScheduledJob).where(ScheduledJob.id.in_(claimed.scalar_subquery()))


_FORGET_HANDED_OVER = _forget_handed_over()


class JobStore:
    """Reads and releases the schedule for a job queue (its sessions are the runtime's)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        read_sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self._sessionmaker = sessionmaker
        self._read_sessionmaker = read_sessionmaker

    async def retry_later(
        self, job: str, queue: str, kwargs: dict[str, Any], *, attempt: int, delay: float, error: str
    ) -> None:
        """Store attempt ``attempt`` of a job whose previous attempt failed with ``error``."""
        async with unit_of_work(self._sessionmaker) as session:
            schedule(session, job, queue, kwargs, delay, attempt=attempt, last_error=error)

    async def release_due(self, queues: Collection[str], kick: Kick) -> datetime | None:
        """Kick every due job of ``queues``; answers when the next one is due (None: none is
        scheduled, or the due ones are being released by another worker)."""
        while True:
            next_at = await self._next_run_at(queues)
            if next_at is None or next_at > utcnow():
                return next_at
            if not await self._release_batch(queues, kick):
                return None

    async def release_debounced(self, keys: Collection[str], queues: Collection[str], kick: Kick) -> int:
        """Kick the pending runs of debounce ``keys`` that are due, in one statement; answers how
        many. Claimed as ``release_due`` claims (deleted in the kicks' transaction, ``SKIP LOCKED``
        on PostgreSQL), so each is kicked once: a row locked by another transaction is being
        released by another process, or was just pushed back by a transaction that hands it over
        itself when it commits."""
        async with unit_of_work(self._sessionmaker) as session:
            claimed = (
                select(ScheduledJob.id)
                .where(
                    ScheduledJob.debounce_key.in_(keys),
                    ScheduledJob.queue.in_(queues),
                    ScheduledJob.run_at <= utcnow(),
                )
                .with_for_update(skip_locked=True)
            )
            due = (
                await session.execute(
                    delete(ScheduledJob)
                    .where(ScheduledJob.id.in_(claimed.scalar_subquery()))
                    .returning(ScheduledJob.job, ScheduledJob.kwargs, ScheduledJob.attempt)
                )
            ).all()
            for row in due:
                await kick(row.job, row.kwargs, row.attempt)
            return len(due)

    async def _next_run_at(self, queues: Collection[str]) -> datetime | None:
        """Read outside the write gate, so an idle schedule costs no write transaction."""
        async with read_session(self._read_sessionmaker) as session:
            earliest: datetime | None = await session.scalar(
                select(func.min(ScheduledJob.run_at)).where(ScheduledJob.queue.in_(queues))
            )
            return earliest

    async def _release_batch(self, queues: Collection[str], kick: Kick) -> int:
        async with unit_of_work(self._sessionmaker) as session:
            due = (
                await session.execute(
                    select(
                        ScheduledJob.id,
                        ScheduledJob.job,
                        ScheduledJob.kwargs,
                        ScheduledJob.attempt,
                    )
                    .where(ScheduledJob.queue.in_(queues), ScheduledJob.run_at <= utcnow())
                    .order_by(ScheduledJob.run_at)
                    .limit(RELEASE_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in due:
                await kick(row.job, row.kwargs, row.attempt)
            if due:
                await session.execute(delete(ScheduledJob).where(ScheduledJob.id.in_([r.id for r in due])))
            return len(due)
