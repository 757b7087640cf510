"""Running the job queues: in-process by default, on Redis lists with ``CXINBOX_REDIS_URL``.

Every queue (``core.jobs.Queue``) is a list of its own (in memory, or the Redis list
``<prefix>:jobs:<queue>``; the default queue keeps the plain ``<prefix>:jobs``, so jobs queued
before queues existed still run) with its own pool of runners: a process never takes more than a
queue's ``concurrency`` jobs of it at once, so a bulk backlog leaves the realtime runners free.

A process consumes the queues it is given (``cxinbox worker --queues``; all by default) and releases
the durable schedule's due jobs (``core.job_store``): it looks when the earliest one is due, when
this process schedules one, and at least every ``poll_seconds``. On Redis it releases the due jobs
of every queue (a released job goes to the queue's shared list, whichever process takes it): a
realtime worker that schedules a bot turn due now (``llm``) hands it over at once instead of
leaving it for an ``llm`` worker's next look, up to ``poll_seconds`` later. In-process it releases
only the queues it consumes (nobody else would run the others).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Protocol

import structlog
from pydantic_core import to_jsonable_python
from redis.asyncio import Redis

from cxinbox.core.backoff import Reconnecting
from cxinbox.core.clock import utcnow
from cxinbox.core.job_store import JobStore
from cxinbox.core.jobs import JobSpec, registered_job
from cxinbox.core.queue_names import ALL_QUEUES, Queue

log = structlog.get_logger(__name__)


class JobRunner(Protocol):
    async def __call__(self, spec: JobSpec, kwargs: dict[str, Any]) -> None: ...


#: the name a queue's message gives its one task (taskiq's task of earlier versions: each message
#: names the job it runs)
RUN_JOB_TASK = "cxinbox.run_job"
#: jobs still running when the process stops get this long to finish, then they are cancelled (a
#: cancelled job is not retried: what must not be lost is in a durable table that a sweeper reads)
SHUTDOWN_GRACE_SECONDS = 5.0
#: the durable schedule is read at least this often (a job scheduled by another process is seen
#: within this long of its time)
POLL_SECONDS = 1.0

_Message = tuple[str, dict[str, Any], int]


class JobQueue:
    """Sends jobs to their queue and runs the queues this process consumes. Jobs are looked up in
    the registry when they are kicked and when they run, so a job registered later runs too."""

    def __init__(
        self,
        redis_url: str | None,
        runner: JobRunner,
        store: JobStore,
        *,
        prefix: str = "cxinbox",
        poll_seconds: float = POLL_SECONDS,
        concurrency: Mapping[Queue, int] | None = None,
    ) -> None:
        self._runner = runner
        #: runners per queue: each queue's own (``Queue.concurrency``) unless ``concurrency`` names it
        self.concurrency = {queue: queue.concurrency for queue in ALL_QUEUES} | dict(concurrency or {})
        self._store = store
        self._poll_seconds = poll_seconds
        self._consumed: tuple[Queue, ...] = ()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        #: the schedule's database as the releasing loop sees it
        self.schedule_connection = Reconnecting("job_schedule")
        #: each consumed queue's Redis connection as its receiver sees it
        self.receiver_connections = {queue: Reconnecting(f"job_receiver_{queue}") for queue in ALL_QUEUES}
        self._stopping = False
        #: each queue's Redis client (kept: a kick is one LPUSH) and list
        self._redis: dict[Queue, Redis] = {}
        self._lists = {queue: redis_list_name(prefix, queue) for queue in ALL_QUEUES}
        self._lanes: dict[Queue, asyncio.Queue[_Message]] = {}
        #: in-process: jobs kicked and not yet finished (``wait_idle``)
        self._unfinished = 0
        self._idle = asyncio.Event()
        self._idle.set()
        if redis_url:
            # a receiver blocks on BRPOP until a job arrives: a read timeout (redis-py's default is
            # 5 s) would end every idle wait as an outage, and a job popped as the client gave up
            # would be lost
            self._redis = {
                queue: Redis.from_url(redis_url, socket_timeout=None, socket_keepalive=True)
                for queue in ALL_QUEUES
            }
        else:
            self._lanes = {queue: asyncio.Queue() for queue in ALL_QUEUES}

    @property
    def is_distributed(self) -> bool:
        return bool(self._redis)

    @property
    def consumed_queues(self) -> tuple[Queue, ...]:
        return self._consumed

    @property
    def _released(self) -> tuple[Queue, ...]:
        """The queues whose scheduled jobs this process releases (see the module)."""
        return ALL_QUEUES if self.is_distributed else self._consumed

    async def start(self, *, consume: bool, queues: Collection[Queue] = ALL_QUEUES) -> None:
        """Connect; with ``consume`` this process also runs the jobs of ``queues`` and releases their
        scheduled jobs. In-process, nobody else can run them: it always consumes."""
        if not consume and self.is_distributed:
            return
        self._consumed = tuple(queue for queue in ALL_QUEUES if queue in queues)
        for queue in self._consumed:
            if self.is_distributed:
                self._tasks.append(asyncio.create_task(self._receive(queue)))
            else:
                self._tasks += [
                    asyncio.create_task(self._take(queue)) for _ in range(self.concurrency[queue])
                ]
        self._tasks.append(asyncio.create_task(self._release_schedule()))

    async def stop(self) -> None:
        """Stop taking jobs; running ones get ``SHUTDOWN_GRACE_SECONDS``. Jobs waiting in memory are
        lost (scheduled ones wait in the database; on Redis they wait in their list)."""
        self._stopping = True
        idle = [task for task in self._tasks if task not in self._running]
        for task in idle:
            task.cancel()
        await asyncio.gather(*idle, return_exceptions=True)
        if self._running:
            _done, unfinished = await asyncio.wait(set(self._running), timeout=SHUTDOWN_GRACE_SECONDS)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            if unfinished:
                log.warning("jobs_interrupted_at_shutdown", count=len(unfinished))
        self._tasks = []
        for redis in self._redis.values():
            await redis.aclose()

    async def kick(self, name: str, kwargs: dict[str, Any] | None = None, *, attempt: int = 1) -> None:
        """Queue attempt ``attempt`` of the job ``name`` on its queue."""
        spec = registered_job(name)
        if spec is None:
            raise LookupError(f"unknown job {name!r}")
        kwargs = kwargs or {}
        if self.is_distributed:
            await self._redis[spec.queue].lpush(
                self._lists[spec.queue], _taskiq_message(name, kwargs, attempt)
            )
            return
        self._unfinished += 1
        self._idle.clear()
        self._lanes[spec.queue].put_nowait((name, kwargs, attempt))

    async def backlog(self, queue: Queue) -> int:
        """Jobs waiting in ``queue`` (queued, not yet taken by a runner)."""
        if not self.is_distributed:
            return self._lanes[queue].qsize()
        return int(await self._redis[queue].llen(self._lists[queue]))

    async def release_debounced(self, keys: Collection[str]) -> None:
        """Kick the debounced jobs of ``keys`` that a transaction has just stored due now (it
        committed): one statement for all of them, where the schedule's release loop would read the
        schedule, claim its due rows and read it again, after a wake-up of its own. A job another
        process released first (or of a queue this process does not release) is not kicked; if
        this fails, the release loop finds the jobs."""
        try:
            await self._store.release_debounced(keys, self._released, self._kick_scheduled)
        except Exception:
            log.warning("job_release_debounced_failed", exc_info=True)
            self.wake()

    async def hand_over(self, name: str, kwargs: dict[str, Any]) -> None:
        """Kick a debounced job that a transaction has just stored due now (it committed), when this
        process releases its queue (else the stored row is the schedule's: ``jobs``, the module). A
        failed kick is logged: the stored row runs it later."""
        spec = registered_job(name)
        if spec is None or spec.queue not in self._released:
            return
        try:
            await self.kick(name, kwargs)
        except Exception:
            log.warning("job_hand_over_failed", job=name, exc_info=True)

    def wake(self) -> None:
        """Look at the durable schedule now (this process has just scheduled a job)."""
        self._wake.set()

    async def wait_idle(self) -> None:
        """In-process only: wait until every queued job has finished (used by tests)."""
        await self._idle.wait()

    async def _take(self, queue: Queue) -> None:
        """One runner of an in-process queue."""
        lane = self._lanes[queue]
        while not self._stopping:
            name, kwargs, attempt = await lane.get()
            try:
                await self._run(name, kwargs, attempt)
            finally:
                self._unfinished -= 1
                if self._unfinished == 0:
                    self._idle.set()

    async def _run(self, job: str, kwargs: dict[str, Any], attempt: int = 1) -> None:
        spec = registered_job(job)
        if spec is None:
            log.error("job_unknown", job=job)
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await self._runner(spec, kwargs)
        except Exception as exc:
            await self._failed(spec, kwargs, attempt, exc)
        finally:
            self._running.discard(task)

    async def _failed(self, spec: JobSpec, kwargs: dict[str, Any], attempt: int, exc: Exception) -> None:
        """Store the next attempt in the schedule, or give up after the last one."""
        if attempt >= spec.attempts:
            log.error("job_failed", job=spec.name, attempts=attempt, exc_info=exc)
            return
        delay = spec.retry_delay(attempt, exc)
        error = f"{type(exc).__name__}: {exc}"
        log.warning("job_retry", job=spec.name, attempt=attempt, delay=round(delay, 2), error=error[:200])
        try:
            await self._store.retry_later(
                spec.name, spec.queue, kwargs, attempt=attempt + 1, delay=delay, error=error
            )
        except Exception:
            log.exception("job_retry_not_stored", job=spec.name, attempt=attempt)
            return
        self.wake()

    async def _release_schedule(self) -> None:
        """Hand due scheduled jobs of the consumed queues to the broker, for as long as this runs."""
        while not self._stopping:
            self._wake.clear()
            try:
                next_at = await self._store.release_due(self._released, self._kick_scheduled)
                self.schedule_connection.recovered()
            except Exception as exc:
                self.schedule_connection.noted(exc)
                next_at = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._seconds_until(next_at))

    def _seconds_until(self, next_at: datetime | None) -> float:
        if next_at is None:
            return self._poll_seconds
        return min(self._poll_seconds, max(0.0, (next_at - utcnow()).total_seconds()))

    async def _kick_scheduled(self, name: str, kwargs: dict[str, Any], attempt: int) -> None:
        try:  # a handed-over run's row (``job_store.HANDED_OVER``, attempt 0) is its first attempt
            await self.kick(name, kwargs, attempt=max(attempt, 1))
        except LookupError:  # a job this version no longer has: dropped with its row
            log.error("job_unknown", job=name)

    async def _receive(self, queue: Queue) -> None:
        """Run the jobs of ``queue`` from Redis: pop one when a runner is free (a popped job is
        always run: at stop it gets the running jobs' grace), each in a task of its own. While Redis
        is down, wait for it with capped exponential backoff (one log line per outage)."""
        redis, name = self._redis[queue], self._lists[queue]
        reconnecting = self.receiver_connections[queue]
        runners = asyncio.Semaphore(self.concurrency[queue])

        def finished(job: asyncio.Task[None]) -> None:
            self._running.discard(job)
            runners.release()

        while not self._stopping:
            await runners.acquire()
            try:
                if reconnecting.down:
                    await redis.ping()
                    reconnecting.recovered()
                _list, message = await redis.brpop([name])  # type: ignore[misc]
            except Exception as exc:
                runners.release()
                await reconnecting.failed(exc)
                continue
            except BaseException:
                runners.release()
                raise
            job = asyncio.create_task(self._run_message(message))
            self._running.add(job)  # before it starts: a stop now waits for it
            job.add_done_callback(finished)

    async def _run_message(self, message: bytes | str) -> None:
        """Run the job a message on a queue's list names (``_taskiq_message``)."""
        try:
            call = json.loads(message)
            if call["task_name"] != RUN_JOB_TASK:
                raise ValueError(f"not a job: {call['task_name']!r}")
            run = call["kwargs"]
            job, kwargs, attempt = run["job"], run["kwargs"], run.get("attempt", 1)
        except (ValueError, KeyError, TypeError):
            log.error("job_message_unreadable", message=message[:200], exc_info=True)
            return
        await self._run(job, kwargs, attempt)


def redis_list_name(prefix: str, queue: Queue) -> str:
    """The Redis list holding ``queue``'s jobs."""
    return f"{prefix}:jobs" if queue is Queue.DEFAULT else f"{prefix}:jobs:{queue}"


def _taskiq_message(job: str, kwargs: dict[str, Any], attempt: int) -> bytes:
    """A job's message on its queue's list: the one a taskiq kick of ``RUN_JOB_TASK`` writes (its
    default formatter's JSON), as earlier versions queued and ran jobs with taskiq (its kicker's and
    receiver's pydantic models, a Redis client per kick and dependency resolution per job cost
    about three times the LPUSH and BRPOP): a process of an earlier version runs this one's jobs,
    and this one runs theirs. A value JSON has no type for (a datetime, a UUID) is written as
    pydantic writes it."""
    message = {
        "task_id": uuid.uuid4().hex,
        "task_name": RUN_JOB_TASK,
        "labels": {},
        "labels_types": {},
        "args": [],
        "kwargs": {"job": job, "kwargs": kwargs, "attempt": attempt},
    }
    return json.dumps(message, default=to_jsonable_python).encode()
