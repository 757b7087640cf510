"""The process's shared services, built once from Settings and handed to requests and jobs."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.email import Mailer, create_mailer
from cxinbox.adapters.storage import FileStorage, LocalDiskStorage
from cxinbox.auth.passwords import PasswordHasher
from cxinbox.auth.tokens import TokenSigner
from cxinbox.config import Settings
from cxinbox.core.admission import FairAdmission, Precedence
from cxinbox.core.cache import ExpiringStore
from cxinbox.core.crypto import SecretBox, TokenHasher
from cxinbox.core.db import (
    WritePriority,
    create_engine,
    create_read_engine,
    create_read_sessionmaker,
    create_sessionmaker,
    read_session,
    unit_of_work,
    write_priority,
)
from cxinbox.core.db_phases import DbPhases
from cxinbox.core.events import EVENT_BUS_KEY
from cxinbox.core.job_queue import JobQueue
from cxinbox.core.job_store import JobStore
from cxinbox.core.jobs import JOB_QUEUE_KEY, JobSpec
from cxinbox.core.outbound import close_shared_clients
from cxinbox.core.outbound_bulk import close_bulk_sessions
from cxinbox.core.pubsub import create_bus
from cxinbox.core.queue_names import ALL_QUEUES, Queue
from cxinbox.core.ratelimit import RateLimiter
from cxinbox.core.scheduler import Scheduler

log = structlog.get_logger(__name__)

#: runtimes started on each event loop. The loop's shared HTTP clients (``core.outbound``,
#: ``core.outbound_bulk``) belong to all of them and are closed by the last one to stop: a process
#: runs one, but tests run several in one loop, and one stopping must not close another's connections
#: under its calls in flight
_started_on: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()


class Runtime:
    def __init__(
        self, settings: Settings, *, mailer: Mailer | None = None, storage: FileStorage | None = None
    ) -> None:
        # every area registers its jobs, periodic tasks, hooks and event filters: a worker runs the
        # jobs known in its process, and the scheduler ticks the periodic tasks known at start. (The
        # areas import this module, hence the import here.)
        from cxinbox.areas import register_areas

        register_areas()
        self.settings = settings
        self.engine = create_engine(settings.database_url)
        self.bus = create_bus(settings.redis_url, settings.redis_prefix)
        self.sessionmaker = create_sessionmaker(self.engine)
        read_url = settings.database_read_url
        self.current_read_engine = create_read_engine(self.engine)  # the primary's database
        self.read_engine = create_read_engine(self.engine, read_url) if read_url else self.current_read_engine
        self.read_sessionmaker = create_read_sessionmaker(self.read_engine)
        self.current_read_sessionmaker = (
            create_read_sessionmaker(self.current_read_engine) if read_url else self.read_sessionmaker
        )
        self.jobs = JobQueue(
            settings.redis_url,
            self._run_job,
            JobStore(self.sessionmaker, self.current_read_sessionmaker),
            prefix=settings.redis_prefix,
            poll_seconds=settings.job_poll_seconds,
            concurrency={Queue.LLM: settings.job_llm_concurrency},
        )
        self.db_phases = DbPhases(settings.job_llm_db_phases)
        self.sessionmaker.configure(info={EVENT_BUS_KEY: self.bus, JOB_QUEUE_KEY: self.jobs})
        self.cache = ExpiringStore(settings.redis_url, prefix=settings.redis_prefix)
        self.limiter = RateLimiter(
            settings.redis_url, enabled=settings.rate_limits_enabled, prefix=settings.redis_prefix
        )
        mail = settings.mail
        self.mailer = mailer or create_mailer(mail.smtp_url, mail.email_from, log_text=mail.log_text)
        self.storage = storage or LocalDiskStorage(settings.data_dir / "files")
        self.secrets = SecretBox(settings.effective_secret_key)
        #: webhook deliveries in flight, which tool requests give way to (``core.admission``)
        self.precedence = Precedence()
        self.tool_calls = FairAdmission(
            settings.tool_calls_max,
            settings.tool_calls_max_per_org,
            settings.tool_calls_max_wait_seconds,
            self.precedence,
        )
        #: the same bound on requests to the routes that call tools, at the app's edge, per credential
        #: (``core.admission.ToolCallGate``)
        self.tool_call_requests = FairAdmission(
            settings.tool_calls_max,
            settings.tool_calls_max_per_org,
            settings.tool_calls_max_wait_seconds,
            self.precedence,
        )
        self.hasher = TokenHasher(settings.effective_secret_key)
        self.scheduler = Scheduler(self.jobs, settings.redis_url, prefix=settings.redis_prefix)
        self.tokens = TokenSigner(settings.effective_secret_key)
        self.passwords = PasswordHasher(settings.argon2_time_cost, settings.argon2_memory_cost)
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._started = False

    async def start(self, *, workers: bool = True, queues: Collection[Queue] = ALL_QUEUES) -> None:
        """Connect the bus and the job queue; with ``workers`` also run the jobs of ``queues`` and
        the periodic tasks."""
        loop = asyncio.get_running_loop()
        _started_on[loop] = _started_on.get(loop, 0) + 1
        self._started = True
        await self.bus.start()
        # the job runners, the schedule's release and the periodic tasks start here: their tasks,
        # and what those start, write in the background (``core.db.WriteGate``)
        with write_priority(WritePriority.BACKGROUND):
            await self.jobs.start(consume=workers, queues=queues)
            if workers:
                self.scheduler.start()

    def on_stop(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Close a resource an area opened for this runtime (an HTTP client) when it stops."""
        self._closers.append(closer)

    async def stop(self) -> None:
        for closer in self._closers:
            await closer()
        self._closers.clear()
        await self.scheduler.stop()
        await self.jobs.stop()
        await self.bus.stop()
        await self.limiter.close()
        await self.cache.close()
        if self._last_to_stop():
            await close_shared_clients()
            await close_bulk_sessions()
        for engine in {self.read_engine, self.current_read_engine, self.engine}:
            await engine.dispose()

    def _last_to_stop(self) -> bool:
        """Whether no other runtime started on this loop is still running (this one stops now)."""
        loop = asyncio.get_running_loop()
        if self._started:
            self._started = False
            _started_on[loop] = _started_on.get(loop, 1) - 1
        return _started_on.get(loop, 0) <= 0

    def unit_of_work(self) -> Any:
        return unit_of_work(self.sessionmaker)

    def read_session(self, *, current: bool = False) -> Any:
        """A session for reads that change nothing (``core.db.read_session``). It may lag behind
        the unit of work when ``database_read_url`` names a replica, unless ``current`` (what must
        see the latest commit, such as a credential's user: the primary's database, read-only)."""
        return read_session(self.current_read_sessionmaker if current else self.read_sessionmaker)

    async def _run_job(self, spec: JobSpec, kwargs: dict[str, Any]) -> None:
        """Run a job in a unit of work of its own; its writes (and those of the tasks it starts)
        let the requests' go first (``core.db.WriteGate``)."""
        with write_priority(WritePriority.BACKGROUND):
            async with self.unit_of_work() as session:
                await spec.fn(self, session, **kwargs)

    async def check_ready(self) -> dict[str, str]:
        """Answers per dependency; raises if one is down, or hangs past ``ready_timeout_seconds``."""
        async with asyncio.timeout(self.settings.ready_timeout_seconds):
            async with self.sessionmaker() as session:
                await _ping_database(session)
            checks = {"database": "ok"}
            if self.settings.redis_url:
                await self.bus.ping()
                checks["redis"] = "ok"
        return checks


async def _ping_database(session: AsyncSession) -> None:
    await session.execute(text("SELECT 1"))
