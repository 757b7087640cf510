"""Periodic tasks: kicked every interval; with Redis, once per interval across schedulers."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from redis.asyncio import Redis

from cxinbox.core.jobs import job
from cxinbox.core.scheduler import PeriodicSpec, Scheduler
from tests.fixtures.runtimes import REDIS_URL, needs_redis, started_runtime, unique_prefix
from tests.fixtures.wait import eventually

TICKS: Counter[str] = Counter()
TICK_JOB = "tests.periodic_tick"


@job(TICK_JOB, attempts=1)
async def periodic_tick(_runtime, _session) -> None:
    TICKS[TICK_JOB] += 1


async def test_a_periodic_job_is_kicked_every_interval(runtime, settings):
    TICKS.clear()
    async with started_runtime(settings, redis_url=None, workers=False) as rt:
        scheduler = Scheduler(rt.jobs, None, specs=[PeriodicSpec(TICK_JOB, every_seconds=0.02)])
        scheduler.start()
        try:
            await eventually(lambda: TICKS[TICK_JOB] >= 3, "three ticks ran")
        finally:
            await scheduler.stop()


@needs_redis
@pytest.mark.parametrize("schedulers", [2, 5])
async def test_with_redis_only_one_scheduler_kicks_per_interval(runtime, settings, schedulers):
    prefix = unique_prefix()
    spec = PeriodicSpec(TICK_JOB, every_seconds=60)
    async with started_runtime(settings, redis_url=REDIS_URL, prefix=prefix, workers=False) as rt:
        fleet = [Scheduler(rt.jobs, REDIS_URL, prefix=prefix, specs=[]) for _ in range(schedulers)]
        for scheduler in fleet:
            scheduler.start()
        try:
            kicked = await asyncio.gather(*(scheduler.tick(spec) for scheduler in fleet))
            assert kicked.count(True) == 1
            redis = Redis.from_url(REDIS_URL)
            try:  # nobody consumes this queue (no workers): the kicks are still in it
                assert await redis.llen(f"{prefix}:jobs") == 1
            finally:
                await redis.delete(f"{prefix}:jobs")
                await redis.aclose()
        finally:
            for scheduler in fleet:
                await scheduler.stop()
