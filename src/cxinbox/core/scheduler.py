"""Periodic tasks: every process that runs workers ticks, and with Redis only one of them per
interval kicks the job (a short lock), so scaled-out deployments do not multiply the work.

The tasks of one interval tick at moments spread over it (``phase``), the same moments in every
process (they are read on the wall clock): started together they ticked together, and a bot turn or
a webhook caught at that moment waited for all their transactions at once (on SQLite, queued at the
write gate: 150 ms and more on a busy machine) instead of for at most one.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
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


def phase(spec: PeriodicSpec, specs: list[PeriodicSpec]) -> float:
    """Where in its interval ``spec`` ticks: the tasks of one interval, in the order of their names,
    spread evenly over it."""
    alike: defaultdict[float, list[str]] = defaultdict(list)
    for other in specs:
        alike[other.every_seconds].append(other.job_name)
    names = sorted(set(alike[spec.every_seconds]))
    return spec.every_seconds * names.index(spec.job_name) / len(names)


def seconds_to_phase(now: float, every_seconds: float, offset: float) -> float:
    """Seconds from ``now`` (wall clock) to the next moment ``offset`` past a multiple of
    ``every_seconds`` (0 when it is now)."""
    return (offset - now) % every_seconds


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
        self._tasks = [asyncio.create_task(self._loop(spec, phase(spec, specs))) for spec in specs]

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

    async def _loop(self, spec: PeriodicSpec, offset: float) -> None:
        """Tick at the moments ``offset`` past a multiple of the interval on the wall clock, the
        first no sooner than one interval after the start. A tick late by more than an interval (a
        stalled process) or a clock set back goes to the next such moment from now."""
        every, now = spec.every_seconds, time.time()
        at = now + every + seconds_to_phase(now, every, offset)
        while not await sleep_unless(self._stopping, max(0.0, at - time.time())):
            await self.tick(spec)
            at += every
            now = time.time()
            if not now - every < at <= now + 2 * every:
                at = now + seconds_to_phase(now, every, offset)

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
