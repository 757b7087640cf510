"""Periodic tasks: kicked every interval; with Redis, once per interval across schedulers."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from redis.asyncio import Redis

from cxinbox.core.clock import sleep_unless
from cxinbox.core.jobs import job
from cxinbox.core.scheduler import PeriodicSpec, Scheduler, phase, seconds_to_phase
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


class _SwallowingQueue:
    """A job queue whose kick, cancelled mid-way, swallows the cancel (as a client library may)."""

    def __init__(self) -> None:
        self.kicking = asyncio.Event()

    async def kick(self, name: str) -> None:
        self.kicking.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return


async def test_stop_ends_a_loop_whose_kick_swallowed_the_cancel():
    queue = _SwallowingQueue()
    scheduler = Scheduler(queue, None, specs=[PeriodicSpec(TICK_JOB, every_seconds=0.01)])  # type: ignore[arg-type]
    scheduler.start()
    await asyncio.wait_for(queue.kicking.wait(), 60)
    await asyncio.wait_for(scheduler.stop(), 60)  # before: the loop slept on and stop() never returned


async def test_a_loop_late_for_its_tick_still_sees_the_stop():
    """A loop behind its moment sleeps 0 s: with no time left asyncio.wait_for cancelled the wait
    before it saw the stop event, so the loop ticked again (and, its kick hanging, never stopped)."""
    stopping = asyncio.Event()
    assert await sleep_unless(stopping, 0) is False
    stopping.set()
    assert await sleep_unless(stopping, 0) is True
    assert await sleep_unless(stopping, 5) is True


def test_the_tasks_of_one_interval_tick_spread_over_it_in_every_process():
    """Started together, the 5-second tasks ticked together: a bot turn caught then waited for all
    their transactions at once. Each now has its own moment in the interval, by name, on the wall
    clock (so every process picks the same ones, whatever order it registered them in)."""
    fives = [PeriodicSpec(name, 5) for name in ("d", "a", "c", "b")]
    specs = [*fives, PeriodicSpec("hourly", 3600)]
    assert {spec.job_name: phase(spec, specs) for spec in fives} == {"a": 0, "b": 1.25, "c": 2.5, "d": 3.75}
    assert phase(specs[-1], list(reversed(specs))) == 0
    assert seconds_to_phase(1_000_000.0, 5, 1.25) == pytest.approx(1.25)
    assert seconds_to_phase(1_000_001.5, 5, 1.25) == pytest.approx(4.75)
    assert seconds_to_phase(1_000_001.25, 5, 1.25) == 0
