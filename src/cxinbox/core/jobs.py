"""Background jobs on taskiq: in-process by default, Redis (taskiq-redis) with ``CXINBOX_REDIS_URL``.

Jobs are plain async functions decorated with ``@job``; they carry ids, not objects, and run in their
own unit of work. ``enqueue(session, fn, **kwargs)`` queues a job on the request's transaction: it is
sent to the broker only after the transaction commits.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import AsyncBroker, InMemoryBroker
from taskiq.receiver import Receiver

from cxinbox.core.backoff import Reconnecting
from cxinbox.core.clock import sleep_unless
from cxinbox.core.db import after_commit

log = structlog.get_logger(__name__)

JOB_QUEUE_KEY = "job_queue"


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: Callable[..., Awaitable[None]]
    attempts: int
    backoff_seconds: float


_REGISTRY: dict[str, JobSpec] = {}


def job(name: str, *, attempts: int = 5, backoff_seconds: float = 1.0) -> Callable[[Any], Any]:
    """Register ``fn(runtime, session, **kwargs)`` as the job ``name``."""

    def register(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise RuntimeError(f"job {name!r} registered twice")
        _REGISTRY[name] = JobSpec(name, fn, attempts, backoff_seconds)
        fn.job_name = name  # type: ignore[attr-defined]
        return fn

    return register


class JobRunner(Protocol):
    async def __call__(self, spec: JobSpec, kwargs: dict[str, Any]) -> None: ...


#: The one broker task: it runs whichever registered job a message names.
RUN_JOB_TASK = "cxinbox.run_job"
#: jobs still running when the process stops get this long to finish, then they are cancelled (what
#: must not be lost is in a durable table that a sweeper reads)
SHUTDOWN_GRACE_SECONDS = 5.0
#: jobs a receiver of the shared broker runs at once
MAX_CONCURRENT_JOBS = 50


class JobQueue:
    """Sends jobs to the broker and runs them. Jobs are looked up in the registry when they are
    kicked and when they run, not when the queue is built, so a job registered later runs too."""

    def __init__(self, redis_url: str | None, runner: JobRunner, *, prefix: str = "cxinbox") -> None:
        self._runner = runner
        self._receiver: asyncio.Task[None] | None = None
        self._timers: set[asyncio.Task[None]] = set()
        self._running: set[asyncio.Task[Any]] = set()
        self._stopping = asyncio.Event()
        #: the shared broker's connection as the receiver sees it
        self.receiver_connection = Reconnecting("job_receiver")
        self.broker: AsyncBroker
        if redis_url:
            from taskiq_redis import ListQueueBroker

            self.broker = ListQueueBroker(redis_url, queue_name=f"{prefix}:jobs")
        else:
            self.broker = InMemoryBroker(max_async_tasks=200)

        async def run_job(job: str, kwargs: dict[str, Any]) -> None:  # taskiq renames what it registers
            await self._run(job, kwargs)

        self._run_job_task = self.broker.register_task(run_job, task_name=RUN_JOB_TASK)

    @property
    def is_distributed(self) -> bool:
        return not isinstance(self.broker, InMemoryBroker)

    async def _run(self, job: str, kwargs: dict[str, Any]) -> None:
        spec = _REGISTRY.get(job)
        if spec is None:
            log.error("job_unknown", job=job)
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await self._attempts(spec, kwargs)
        finally:
            self._running.discard(task)

    async def _attempts(self, spec: JobSpec, kwargs: dict[str, Any]) -> None:
        for attempt in range(1, spec.attempts + 1):
            try:
                await self._runner(spec, kwargs)
                return
            except Exception:
                if attempt == spec.attempts:
                    log.exception("job_failed", job=spec.name, attempts=attempt)
                    return
                delay = spec.backoff_seconds * 2 ** (attempt - 1) * (0.5 + random.random())
                log.warning("job_retry", job=spec.name, attempt=attempt, delay=round(delay, 2))
                if await sleep_unless(self._stopping, delay):
                    log.warning("job_retry_dropped_at_shutdown", job=spec.name, attempt=attempt)
                    return

    async def start(self, *, consume: bool) -> None:
        """Connect; with ``consume`` this process also runs jobs taken from a shared broker."""
        await self.broker.startup()
        if consume and self.is_distributed:
            self._receiver = asyncio.create_task(self._receive())

    async def _receive(self) -> None:
        """Run the jobs of the shared broker. While Redis is down, wait for it with capped
        exponential backoff (one log line per outage) instead of restarting the receiver at once."""
        reconnecting = self.receiver_connection
        self.broker.is_worker_process = True
        while True:
            try:
                if reconnecting.down:
                    await self._ping()
                    reconnecting.recovered()
                receiver = Receiver(self.broker, run_startup=False, max_async_tasks=MAX_CONCURRENT_JOBS)
                await receiver.listen(asyncio.Event())
                raise ConnectionError("the job receiver stopped listening")
            except Exception as exc:
                await reconnecting.failed(exc)

    async def _ping(self) -> None:
        from redis.asyncio import Redis

        async with Redis(connection_pool=self.broker.connection_pool) as redis:  # type: ignore[attr-defined]
            await redis.ping()

    async def stop(self) -> None:
        """Stop taking jobs; running ones get ``SHUTDOWN_GRACE_SECONDS``, and none starts a retry."""
        self._stopping.set()
        for timer in self._timers:
            timer.cancel()
        if self._receiver:
            self._receiver.cancel()
            await asyncio.gather(self._receiver, return_exceptions=True)
        if self._running:
            _done, unfinished = await asyncio.wait(set(self._running), timeout=SHUTDOWN_GRACE_SECONDS)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            if unfinished:
                log.warning("jobs_interrupted_at_shutdown", count=len(unfinished))
        await self.broker.shutdown()

    async def kick(self, name: str, **kwargs: Any) -> None:
        if name not in _REGISTRY:
            raise LookupError(f"unknown job {name!r}")
        await self._run_job_task.kiq(job=name, kwargs=kwargs)

    def kick_later(self, name: str, delay: float, **kwargs: Any) -> None:
        """Kick ``name`` after ``delay`` seconds. A timer of this process only, lost if it stops: a
        caller that must not lose the job keeps a durable schedule that a sweeper reads."""

        async def later() -> None:
            await asyncio.sleep(delay)
            await self.kick(name, **kwargs)

        timer = asyncio.create_task(later())
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def wait_idle(self) -> None:
        """In-process only: wait until every queued job has finished (used by tests and shutdown)."""
        if isinstance(self.broker, InMemoryBroker):
            await self.broker.wait_all()


def enqueue(session: AsyncSession, fn: Callable[..., Awaitable[None]], **kwargs: Any) -> None:
    """Queue ``fn`` to run after ``session``'s transaction commits."""
    queue: JobQueue = session.info[JOB_QUEUE_KEY]
    name: str = fn.job_name  # type: ignore[attr-defined]
    after_commit(session, lambda: queue.kick(name, **kwargs))


def enqueue_later(
    session: AsyncSession, fn: Callable[..., Awaitable[None]], delay: float, **kwargs: Any
) -> None:
    """Queue ``fn`` to run ``delay`` seconds after ``session``'s transaction commits (see ``kick_later``)."""
    queue: JobQueue = session.info[JOB_QUEUE_KEY]
    name: str = fn.job_name  # type: ignore[attr-defined]

    async def schedule() -> None:
        queue.kick_later(name, delay, **kwargs)

    after_commit(session, schedule)
