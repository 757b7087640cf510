"""The SQLite write gate under a dispatch-shaped background load: how long does an acknowledgement's
write wait for it, and behind how many background transactions?

In-process, no HTTP, a SQLite file through ``core.db.create_engine`` (the gate and ``BEGIN
IMMEDIATE`` as the app has them). Two phases:

1. **acks under a dispatch**: ``--bg-writers`` background tasks (a job's: ``WritePriority.BACKGROUND``
   where the code has priorities) each loop over a transaction that inserts ``--bg-rows`` rows and
   stays open ``--hold-ms`` (it sleeps: the event loop's other work while a batch holds the gate,
   not a core's), then pauses ``--bg-pause-ms``; meanwhile acknowledgements arrive at ``--ack-rate``
   a second, each a transaction of one insert at the default (a request's) priority. Per
   acknowledgement: the background transactions that took the gate while it waited ("ahead": an
   ordering count, whatever the machine's load) and its wait (wall time: read it with the load).
2. **starvation**: ``--flood`` foreground tasks write back to back (no pause) against the same
   background writers: the background's share of the gate's grants must stay above zero.

The process's CPU time per transaction is printed too (the gate's own cost). ``--fifo`` runs the
acknowledgements at the background's priority (one queue in arrival order, as before priorities).
Run from the repository root against another tree's code with ``PYTHONPATH=<tree>/src``: code without
``write_priority`` runs everything in arrival order.

    .venv/bin/python -m bench.write_gate [--seconds 20] [--bg-writers 4] [--hold-ms 10] [--fifo]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bench.machine import load_average
from cxinbox.core import db

ROLE: ContextVar[str] = ContextVar("bench_role", default="ack")
#: when an acknowledgement asked for the gate, and the background transactions begun by then
ARRIVED: ContextVar[tuple[float, int] | None] = ContextVar("bench_arrived", default=None)


def background() -> contextlib.AbstractContextManager[None]:
    """A job's priority, where the code has priorities."""
    if hasattr(db, "write_priority"):
        return db.write_priority(db.WritePriority.BACKGROUND)
    return contextlib.nullcontext()


@dataclass
class Counts:
    #: background transactions that have taken the gate so far
    background_begun: int = 0
    foreground_begun: int = 0
    #: per acknowledgement: (wait in ms, background transactions begun while it waited)
    acks: list[tuple[float, int]] = field(default_factory=list)


def watch(engine: Any, counts: Counts) -> None:
    """Count the transactions as they take the gate (listening after the gate's own ``begin``)."""

    @event.listens_for(engine.sync_engine, "begin")
    def _taken(conn: Any) -> None:
        if ROLE.get() == "background":
            counts.background_begun += 1
        else:
            counts.foreground_begun += 1
            arrived = ARRIVED.get()
            if arrived is not None:
                at, begun = arrived
                counts.acks.append(((time.perf_counter() - at) * 1000, counts.background_begun - begun))


async def background_writer(
    sessionmaker: Any, stop: asyncio.Event, rows: int, hold: float, pause: float
) -> None:
    ROLE.set("background")
    with background():
        while not stop.is_set():
            async with db.unit_of_work(sessionmaker) as session:
                await session.execute(
                    text("INSERT INTO batch (body) VALUES (:body)"), [{"body": "x" * 64}] * rows
                )
                await asyncio.sleep(hold)
            await asyncio.sleep(pause)


async def ack(sessionmaker: Any, counts: Counts, fifo: bool) -> None:
    with background() if fifo else contextlib.nullcontext():
        ARRIVED.set((time.perf_counter(), counts.background_begun))
        async with db.unit_of_work(sessionmaker) as session:
            await session.execute(text("INSERT INTO ack (body) VALUES (:body)"), {"body": "y" * 512})


async def ack_stream(sessionmaker: Any, counts: Counts, stop: asyncio.Event, rate: float, fifo: bool) -> None:
    pending: set[asyncio.Task[None]] = set()
    while not stop.is_set():
        task = asyncio.create_task(ack(sessionmaker, counts, fifo))
        pending.add(task)
        task.add_done_callback(pending.discard)
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*pending)


async def flooder(sessionmaker: Any, stop: asyncio.Event) -> None:
    while not stop.is_set():
        async with db.unit_of_work(sessionmaker) as session:
            await session.execute(text("INSERT INTO ack (body) VALUES ('z')"))


@contextlib.contextmanager
def cpu_clock() -> Iterator[Callable[[], float]]:
    started = time.process_time()
    yield lambda: time.process_time() - started


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'gate.db'}")
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE batch (id INTEGER PRIMARY KEY, body TEXT)"))
                await conn.execute(text("CREATE TABLE ack (id INTEGER PRIMARY KEY, body TEXT)"))
            sessionmaker = db.create_sessionmaker(engine)
            counts = Counts()
            watch(engine, counts)
            rows = []
            for phase in ("idle", "dispatch", "flood"):
                counts.background_begun = counts.foreground_begun = 0
                counts.acks.clear()
                stop = asyncio.Event()
                writers = args.bg_writers if phase != "idle" else 0
                tasks = [
                    asyncio.create_task(
                        background_writer(
                            sessionmaker, stop, args.bg_rows, args.hold_ms / 1000, args.bg_pause_ms / 1000
                        )
                    )
                    for _ in range(writers)
                ]
                if phase == "flood":
                    tasks += [asyncio.create_task(flooder(sessionmaker, stop)) for _ in range(args.flood)]
                else:
                    tasks.append(
                        asyncio.create_task(ack_stream(sessionmaker, counts, stop, args.ack_rate, args.fifo))
                    )
                with cpu_clock() as cpu:
                    await asyncio.sleep(args.seconds)
                    stop.set()
                    await asyncio.gather(*tasks)
                    spent = cpu()
                total = counts.background_begun + counts.foreground_begun
                waits = [w for w, _ in counts.acks]
                ahead = [a for _, a in counts.acks]
                rows.append(
                    [
                        phase,
                        str(len(counts.acks)) if phase != "flood" else "-",
                        f"{statistics.mean(ahead):.2f} / {percentile(ahead, 0.99):.0f} / {max(ahead)}"
                        if ahead
                        else "-",
                        f"{percentile(waits, 0.5):.1f} / {percentile(waits, 0.99):.1f} ms" if waits else "-",
                        f"{counts.background_begun / args.seconds:.1f}/s"
                        + (f" ({counts.background_begun / total:.1%} of grants)" if total else ""),
                        f"{spent / max(total, 1) * 1000:.3f} ms",
                        load_average(),
                    ]
                )
        finally:
            await engine.dispose()
    return rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--bg-writers", type=int, default=4, help="background tasks writing batches")
    parser.add_argument("--bg-rows", type=int, default=50, help="rows a background transaction inserts")
    parser.add_argument(
        "--hold-ms", type=float, default=10.0, help="how long a background transaction stays open"
    )
    parser.add_argument(
        "--bg-pause-ms", type=float, default=20.0, help="a background task's pause between them"
    )
    parser.add_argument("--ack-rate", type=float, default=20.0, help="acknowledgements a second")
    parser.add_argument(
        "--flood", type=int, default=8, help="foreground tasks writing back to back (phase 2)"
    )
    parser.add_argument("--fifo", action="store_true", help="acknowledgements at the background's priority")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    rows = asyncio.run(run(args))
    code = "priorities" if hasattr(db, "write_priority") and not args.fifo else "one queue (arrival order)"
    print(
        f"write gate: {code}; {args.bg_writers} background writers x {args.bg_rows} rows held "
        f"{args.hold_ms:g} ms, pause {args.bg_pause_ms:g} ms; acks {args.ack_rate:g}/s; "
        f"{args.seconds:g} s a phase; pid {os.getpid()}"
    )
    header = [
        "phase",
        "acks",
        "background txns ahead of an ack (mean / p99 / max)",
        "ack wait for the gate p50 / p99",
        "background throughput",
        "CPU per transaction",
        "load 1/5/15",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
