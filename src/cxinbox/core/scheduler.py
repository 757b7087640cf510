"""Periodic tasks: every process that runs workers ticks, and with Redis only one of them per
interval kicks the job (a short lock), so scaled-out deployments do not multiply the work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cxinbox.core.backoff import Reconnecting
from cxinbox.core.clock import sleep_unless
from cxinbox.core.job_queue import JobQueue


@dataclass(frozen=True)
class PeriodicSpec:
    job_name: str
    every_seconds: float


_PERIODIC: dict[str, PeriodicSpec] = {}


def periodic(every_seconds: float) -> Callable[[Any], Any]:
    """Run a registered ``@job`` (it takes no arguments) every ``every_seconds``."""

    def register(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        name: str = fn.job_name  # type: ignore[attr-defined]
        _PERIODIC[name] = PeriodicSpec(name, every_seconds)
        return fn

    return register


class Scheduler:
    def __init__(
        self,
        jobs: JobQueue,
        redis_url: str | None,
        *,
        prefix: str = "cxinbox",
        specs: list[PeriodicSpec] | None = None,
    ) -> None:
        """Ticks ``specs`` (by default every ``@periodic`` task registered when it starts)."""
        self._prefix = prefix
        self._jobs = jobs
        self._specs = specs
        self._redis_url = redis_url
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._redis: Any = None
        #: while Redis is down every tick fails: logged once, not once per tick
        self._kicks = Reconnecting("periodic_kick")

    def start(self) -> None:
        if self._redis_url:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(self._redis_url)
        self._stopping.clear()
        specs = self._specs if self._specs is not None else list(_PERIODIC.values())
        self._tasks = [asyncio.create_task(self._loop(spec)) for spec in specs]

    async def stop(self) -> None:
        """Stop ticking. The loops also end on the stop event: a kick interrupted by the cancel may
        have its ``CancelledError`` swallowed by a client library, and its loop would tick on."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _loop(self, spec: PeriodicSpec) -> None:
        while not await sleep_unless(self._stopping, spec.every_seconds):
            await self.tick(spec)

    async def tick(self, spec: PeriodicSpec) -> bool:
        """Kick ``spec``'s job unless another scheduler already did in this interval; True if kicked."""
        try:
            if await self._claim(spec):
                await self._jobs.kick(spec.job_name)
                self._kicks.recovered()
                return True
        except Exception as exc:
            self._kicks.noted(exc)
            return False
        self._kicks.recovered()
        return False

    async def _claim(self, spec: PeriodicSpec) -> bool:
        if self._redis is None:
            return True
        ttl_ms = max(1, int(spec.every_seconds * 900))  # a little under one interval
        return bool(
            await self._redis.set(f"{self._prefix}:periodic:{spec.job_name}", "1", nx=True, px=ttl_ms)
        )
