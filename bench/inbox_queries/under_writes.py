"""Reads while others write: do the inbox's list requests wait for concurrent writes?

Closed loops over HTTP against one server: ``readers`` clients each ask ``GET /conversations`` again
and again, first alone, then while ``writers`` clients each change a conversation's priority
(``PATCH /conversations/{id}``) again and again. On SQLite a write holds the process's write turn
for its whole transaction; a read that took the same turn would queue behind every write waiting.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from bench.inbox_queries.dataset import Bench

PRIORITIES = ("LOW", "NORMAL", "HIGH", "URGENT")


@dataclass
class Phase:
    name: str
    read_ms: list[float]
    writes: int
    seconds: float

    def row(self) -> str:
        ordered = sorted(self.read_ms)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return (
            f"| {self.name} | {len(ordered) / self.seconds:.0f} | {statistics.median(ordered):.1f} | "
            f"{p95:.1f} | {self.writes / self.seconds:.0f} |"
        )


async def reads_under_writes(
    base: str, bench: Bench, *, readers: int, writers: int, seconds: float
) -> list[Phase]:
    headers = {"Authorization": f"Bearer {bench.admin_token}"}
    async with httpx.AsyncClient(base_url=base, timeout=120, headers=headers) as http:
        first = await http.get("/conversations", params={"limit": 100})
        ids = [c["id"] for c in first.json()["data"]]
        await _phase(http, "reads alone", ids, readers, 0, 2)  # warm-up, not reported
        return [
            await _phase(http, "reads alone", ids, readers, 0, seconds),
            await _phase(http, f"reads + {writers} writers", ids, readers, writers, seconds),
        ]


async def _phase(
    http: httpx.AsyncClient, name: str, ids: list[str], readers: int, writers: int, seconds: float
) -> Phase:
    async def read() -> None:
        (await http.get("/conversations")).raise_for_status()

    async def write(i: int) -> None:
        body = {"priority": PRIORITIES[i % len(PRIORITIES)]}
        (await http.patch(f"/conversations/{ids[i % len(ids)]}", json=body)).raise_for_status()

    return await closed_loops(name, seconds, readers * [read], writers * [write])


async def closed_loops(
    name: str,
    seconds: float,
    readers: Sequence[Callable[[], Awaitable[None]]],
    writers: Sequence[Callable[[int], Awaitable[None]]],
) -> Phase:
    """Each reader and writer again and again for ``seconds``; the reads timed. Writer ``n`` is
    handed 7n, 7n+1, … (which conversation and value to write)."""
    deadline = time.monotonic() + seconds
    read_ms: list[float] = []
    writes = itertools.count()

    async def read(once: Callable[[], Awaitable[None]]) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await once()
            read_ms.append((time.perf_counter() - started) * 1000)

    async def write(once: Callable[[int], Awaitable[None]], n: int) -> None:
        for i in itertools.count(n):
            if time.monotonic() >= deadline:
                return
            await once(i)
            next(writes)

    started = time.monotonic()
    await asyncio.gather(
        *(read(once) for once in readers), *(write(once, n * 7) for n, once in enumerate(writers))
    )
    return Phase(name, read_ms, next(writes), time.monotonic() - started)


def phases_table(phases: list[Phase]) -> str:
    lines = ["| phase | reads/s | read p50 ms | read p95 ms | writes/s |", "|---|---:|---:|---:|---:|"]
    return "\n".join(lines + [p.row() for p in phases])
