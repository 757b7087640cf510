"""Background jobs: plain async functions decorated with ``@job``, on one of four queues.

Jobs carry ids, not objects, and run in their own unit of work. ``enqueue(session, fn, **kwargs)``
queues a job on the request's transaction: it reaches the broker only after the transaction
commits. ``enqueue_later`` and ``enqueue_debounced`` store the job in the durable schedule
(``core.job_store``) in the same transaction. A failed attempt that may retry is stored there too,
so no wait lives in a process (``core.job_queue`` runs the queues). A debounced job due at once (no
``delay``) is handed to its queue right after the commit, by its key, with the others its
transaction stored (``JobQueue.release_debounced``: one statement), instead of waiting for the
schedule's next look; its stored row is what a crash between the two leaves for that look.

A job registered with ``takes_its_run`` (a bot turn as a customer writes) is kicked straight after
the commit instead, with no statement between the commit and its queue: the transaction that hands
it to the runner would otherwise wait for the write gate (SQLite) before each turn. Its stored row
is kept, due ``job_store.HANDED_OVER_FALLBACK`` later, as what a crash before the kick leaves; the
job deletes it itself (``forget_handed_over``) in its transaction that reads what it acts on.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core import job_store
from cxinbox.core.db import after_commit, after_rollback
from cxinbox.core.job_store import DebouncedRun as DebouncedRun

# the queues are named in a module of their own (the command line reads them); here as before
from cxinbox.core.queue_names import ALL_QUEUES as ALL_QUEUES
from cxinbox.core.queue_names import Queue as Queue

if TYPE_CHECKING:
    from cxinbox.core.job_queue import JobQueue

JOB_QUEUE_KEY = "job_queue"
#: ``session.info``: the debounce keys of the runs due at once that its transaction stored, handed
#: over together after the commit (a drain's batch: one statement for all its turns)
_DUE_NOW_KEY = "debounced_due_now"
#: ``session.info``: the jobs due at once that take their own stored run (``takes_its_run``), by
#: debounce key (the last call's arguments), kicked after the commit
_HANDED_KEY = "debounced_handed_over"


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: Callable[..., Awaitable[None]]
    queue: Queue
    attempts: int
    backoff_seconds: float
    #: a debounced run due at once is kicked right after the commit and its job deletes its stored
    #: row (see the module)
    takes_its_run: bool = False

    def retry_delay(self, attempt: int, error: Exception) -> float:
        """Seconds before the attempt after ``attempt``: what a ``RetryAfter`` asks for, else
        exponential backoff with jitter (backoff, 2×backoff, 4×backoff …, each ×0.5–1.5)."""
        if isinstance(error, RetryAfter):
            return error.seconds
        return self.backoff_seconds * 2 ** (attempt - 1) * (0.5 + random.random())


class RetryAfter(Exception):  # noqa: N818 - raised as an instruction, read as one
    """Raised by a job to be retried after exactly ``seconds`` (e.g. a provider's 429 ``Retry-After``).
    It counts as a failed attempt."""

    def __init__(self, seconds: float, reason: str = "retry later") -> None:
        super().__init__(reason)
        self.seconds = max(0.0, seconds)


_REGISTRY: dict[str, JobSpec] = {}


def job(
    name: str,
    *,
    queue: Queue = Queue.DEFAULT,
    attempts: int = 5,
    backoff_seconds: float = 1.0,
    takes_its_run: bool = False,
) -> Callable[[Any], Any]:
    """Register ``fn(runtime, session, **kwargs)`` as the job ``name`` on ``queue``; with
    ``takes_its_run`` it deletes its own debounced runs' stored rows (``forget_handed_over``)."""

    def register(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise RuntimeError(f"job {name!r} registered twice")
        _REGISTRY[name] = JobSpec(name, fn, queue, attempts, backoff_seconds, takes_its_run)
        fn.job_name = name  # type: ignore[attr-defined]
        return fn

    return register


def registered_job(name: str) -> JobSpec | None:
    return _REGISTRY.get(name)


def _spec_of(fn: Callable[..., Awaitable[None]]) -> JobSpec:
    return _REGISTRY[fn.job_name]  # type: ignore[attr-defined]


def _job_queue(session: AsyncSession) -> JobQueue:
    queue: JobQueue = session.info[JOB_QUEUE_KEY]
    return queue


def enqueue(session: AsyncSession, fn: Callable[..., Awaitable[None]], **kwargs: Any) -> None:
    """Queue ``fn`` to run after ``session``'s transaction commits."""
    queue = _job_queue(session)
    name = _spec_of(fn).name
    after_commit(session, lambda: queue.kick(name, kwargs))


def enqueue_later(
    session: AsyncSession, fn: Callable[..., Awaitable[None]], delay: float, **kwargs: Any
) -> None:
    """Queue ``fn`` to run ``delay`` seconds from now: stored in ``session``'s transaction, so it is
    dropped if that rolls back and survives a restart once it commits."""
    spec = _spec_of(fn)
    job_store.schedule(session, spec.name, spec.queue, kwargs, delay)
    _wake_after_commit(session)


async def enqueue_debounced(
    session: AsyncSession,
    fn: Callable[..., Awaitable[None]],
    *,
    key: str,
    delay: float,
    max_wait: float | None = None,
    **kwargs: Any,
) -> None:
    """Run ``fn`` once per burst of calls with the same ``key``: ``delay`` seconds after the burst's
    last call, with that call's ``kwargs`` (so they should name what to look at, such as a
    conversation, not carry the burst's content), and at most ``max_wait`` (default: ten times
    ``delay``) after its first call, so a burst that never pauses still runs. Stored in the
    database, so calls from every process share one burst. A run due at once (no ``delay`` or no
    ``max_wait``) is handed to its queue as soon as the transaction commits (see the module)."""
    await enqueue_debounced_many(session, fn, [DebouncedRun(key, kwargs, delay, max_wait)])


async def enqueue_debounced_many(
    session: AsyncSession, fn: Callable[..., Awaitable[None]], runs: Iterable[DebouncedRun]
) -> None:
    """``enqueue_debounced`` for each of ``runs``, in one statement (a drain's batch of bot turns):
    the same per key, calls with the same key among ``runs`` included."""
    runs = list(runs)
    if not runs:
        return
    spec = _spec_of(fn)
    await job_store.debounce(session, spec.name, spec.queue, runs, handed_over=spec.takes_its_run)
    for run in runs:
        if not run.due_now:
            continue
        if spec.takes_its_run:
            _kick_after_commit(session, spec.name, run)
        else:
            _hand_over_after_commit(session, job_store.debounce_key(spec.name, run.key))
    if not all(run.due_now for run in runs):
        _wake_after_commit(session)


async def forget_handed_over(
    session: AsyncSession, fn: Callable[..., Awaitable[None]], keys: Collection[str], since: datetime
) -> None:
    """For a job that takes its own runs (``takes_its_run``): delete the stored rows of its runs of
    ``keys`` handed over before ``since`` (``job_store.forget_handed_over``)."""
    await job_store.forget_handed_over(session, _spec_of(fn).name, keys, since)


def _kick_after_commit(session: AsyncSession, name: str, run: DebouncedRun) -> None:
    """Kick ``name``'s run of ``run.key`` once the transaction commits (once per key: the last
    call's arguments), with the others it stored."""
    kicks: dict[tuple[str, str], dict[str, Any]] | None = session.info.get(_HANDED_KEY)
    if kicks is not None:
        kicks[name, run.key] = run.kwargs
        return
    session.info[_HANDED_KEY] = {(name, run.key): run.kwargs}
    queue = _job_queue(session)

    async def kick() -> None:
        for (job_name, _), kwargs in session.info.pop(_HANDED_KEY, {}).items():
            await queue.hand_over(job_name, kwargs)

    async def forget() -> None:
        session.info.pop(_HANDED_KEY, None)

    after_commit(session, kick)
    after_rollback(session, forget)


def _hand_over_after_commit(session: AsyncSession, key: str) -> None:
    """Hand the run of ``key`` to its queue once the transaction commits, with the others it stored."""
    keys: list[str] | None = session.info.get(_DUE_NOW_KEY)
    if keys is not None:
        keys.append(key)
        return
    session.info[_DUE_NOW_KEY] = [key]
    queue = _job_queue(session)

    async def hand_over() -> None:
        await queue.release_debounced(session.info.pop(_DUE_NOW_KEY, []))

    async def forget() -> None:
        session.info.pop(_DUE_NOW_KEY, None)

    after_commit(session, hand_over)
    after_rollback(session, forget)


def _wake_after_commit(session: AsyncSession) -> None:
    queue = _job_queue(session)

    async def wake() -> None:
        queue.wake()

    after_commit(session, wake)
