"""Job queue benchmark: does a realtime job still start at once while the bulk queue holds 100,000?

For each broker (in-process always, Redis with ``--redis-url``) it measures how long realtime jobs
wait between their kick and their start (p50/p99 of ``--samples`` jobs kicked ``--interval`` apart)
with an empty bulk queue, then with ``--bulk`` bulk jobs queued (each waits ``--bulk-job-ms``, as a
campaign send waits for its provider, so the backlog lasts the whole measurement). Last, one job
queued at the back of the bulk queue shows what a realtime job would wait without queues of its own.

    .venv/bin/python -m bench.queues
    .venv/bin/python -m bench.queues --redis-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from cxinbox.config import Settings
from cxinbox.core.jobs import Queue, job
from cxinbox.migrations import upgrade
from cxinbox.runtime import Runtime

#: when each probe was kicked and when it started (time.monotonic), by probe id
KICKED: dict[str, float] = {}
STARTED: dict[str, float] = {}
BULK_JOB_SECONDS = [0.01]


@job("bench.realtime_probe", queue=Queue.REALTIME, attempts=1)
async def realtime_probe(_runtime: Runtime, _session: object, probe: str) -> None:
    STARTED[probe] = time.monotonic()


@job("bench.bulk_probe", queue=Queue.BULK, attempts=1)
async def bulk_probe(_runtime: Runtime, _session: object, probe: str) -> None:
    STARTED[probe] = time.monotonic()


@job("bench.bulk_work", queue=Queue.BULK, attempts=1)
async def bulk_work(_runtime: Runtime, _session: object) -> None:
    await asyncio.sleep(BULK_JOB_SECONDS[0])


@dataclass
class Row:
    broker: str
    backlog_before: int
    backlog_after: int
    p50_ms: float
    p99_ms: float


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--redis-url", help="also measure the Redis broker")
    parser.add_argument("--bulk", type=int, default=100_000, help="bulk jobs queued (default 100,000)")
    parser.add_argument("--samples", type=int, default=300, help="realtime jobs measured per row")
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between realtime kicks")
    parser.add_argument("--bulk-job-ms", type=float, default=10.0, help="how long each bulk job waits")
    return parser.parse_args()


@asynccontextmanager
async def bench_runtime(
    data_dir: Path, redis_url: str | None, prefix: str, *, workers: bool
) -> AsyncIterator[Runtime]:
    settings = Settings(
        env="test",
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir}/bench.db",
        redis_url=redis_url,
        redis_prefix=prefix,
        secret_key="bench-secret-key",
        log_level="WARNING",
    )
    runtime = Runtime(settings)
    await runtime.start(workers=workers)
    try:
        yield runtime
    finally:
        await runtime.stop()


async def realtime_latencies(runtime: Runtime, samples: int, interval: float) -> list[float]:
    """Kick ``samples`` realtime probes ``interval`` apart; each one's kick-to-start wait in ms."""
    probes = []
    for _ in range(samples):
        probe = uuid.uuid4().hex
        probes.append(probe)
        KICKED[probe] = time.monotonic()
        await runtime.jobs.kick(realtime_probe.job_name, {"probe": probe})
        await asyncio.sleep(interval)
    while not all(probe in STARTED for probe in probes):
        await asyncio.sleep(0.01)
    return [(STARTED[p] - KICKED[p]) * 1000 for p in probes]


async def fill_bulk(runtime: Runtime, count: int) -> None:
    for start in range(0, count, 1000):
        await asyncio.gather(
            *(runtime.jobs.kick(bulk_work.job_name) for _ in range(min(1000, count - start)))
        )


async def wait_behind_backlog(runtime: Runtime) -> float:
    """Seconds a job queued at the back of the bulk queue waits to start."""
    probe = uuid.uuid4().hex
    KICKED[probe] = time.monotonic()
    await runtime.jobs.kick(bulk_probe.job_name, {"probe": probe})
    while probe not in STARTED:
        await asyncio.sleep(0.05)
    return STARTED[probe] - KICKED[probe]


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def measure(data_dir: Path, redis_url: str | None, args: argparse.Namespace) -> tuple[list[Row], float]:
    label = "Redis" if redis_url else "in-process"
    prefix = f"cxinbox-bench-{uuid.uuid4().hex[:8]}"
    rows = []
    async with bench_runtime(data_dir, redis_url, prefix, workers=True) as runtime:
        await realtime_latencies(runtime, 50, args.interval)  # warm-up
        latencies = await realtime_latencies(runtime, args.samples, args.interval)
        rows.append(Row(label, 0, 0, statistics.median(latencies), percentile(latencies, 99)))
    if redis_url:  # queue the backlog before any worker takes from it
        async with bench_runtime(data_dir, redis_url, prefix, workers=False) as producer:
            await fill_bulk(producer, args.bulk)
    async with bench_runtime(data_dir, redis_url, prefix, workers=True) as runtime:
        if not redis_url:
            await fill_bulk(runtime, args.bulk)
        before = await runtime.jobs.backlog(Queue.BULK)
        latencies = await realtime_latencies(runtime, args.samples, args.interval)
        after = await runtime.jobs.backlog(Queue.BULK)
        rows.append(Row(label, before, after, statistics.median(latencies), percentile(latencies, 99)))
        behind = await wait_behind_backlog(runtime)
    return rows, behind


def table(rows: list[Row]) -> str:
    lines = [
        "| broker | bulk jobs queued (start → end) | realtime p50 ms | realtime p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for row in rows:
        backlog = f"{row.backlog_before:,} → {row.backlog_after:,}" if row.backlog_before else "0"
        lines.append(f"| {row.broker} | {backlog} | {row.p50_ms:.2f} | {row.p99_ms:.2f} |")
    return "\n".join(lines)


async def main() -> None:
    args = parse_args()
    BULK_JOB_SECONDS[0] = args.bulk_job_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{data_dir}/bench.db")
        rows, waits = [], []
        for redis_url in [None, args.redis_url] if args.redis_url else [None]:
            measured, behind = await measure(data_dir, redis_url, args)
            rows += measured
            waits.append(f"{'Redis' if redis_url else 'in-process'}: {behind:.1f} s")
    print(table(rows))
    print(f"\nA job queued behind the bulk backlog instead waited: {', '.join(waits)}")


if __name__ == "__main__":
    asyncio.run(main())
