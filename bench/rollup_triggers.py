"""``python -m bench.rollup_triggers``: what the analytics rollups' triggers cost per message insert.

The database's share of keeping the rollups current, measured where it is spent: the same batch of
message inserts (one statement per message, as the ingest writes them, into existing conversations
of the inbox benchmark's organization) with the ``analytics_*`` triggers of ``messages`` on and off,
in a transaction rolled back afterwards, alternating rounds. Each round reports the CPU time the
database used per insert (PostgreSQL: its backend process, from the kernel; SQLite: this process)
and the wall-clock time, so that a loaded machine moves the figures as little as possible: compare
medians. Kinds: a customer's message (the ingest's common case) and an agent's.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.analytics import ensure_rollups, vacuum
from bench.inbox_queries.dataset import ensure_dataset
from bench.inbox_queries.measure import migrated_runtime
from bench.machine import cpu_seconds, load_average, machine

TRIGGERS = "analytics\\_%"
COLUMNS = (
    "id, organization_id, conversation_id, direction, sender_type, sender_user_id, type, text, status, "
    "ordered_at, is_hidden, simulated, created_at, updated_at"
)
INSERT = f"INSERT INTO messages ({COLUMNS}) VALUES ({', '.join(f':p{i}' for i in range(14))})"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.rollup_triggers", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CXINBOX_BENCH_DATABASE_URL", "sqlite+aiosqlite:///./data/bench-triggers.db"),
    )
    parser.add_argument("-n", "--conversations", type=int, default=5_000, help="the organization's size")
    parser.add_argument("--inserts", type=int, default=2_000, help="messages per batch")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (on and off each)")
    return parser.parse_args()


@dataclass
class Sample:
    cpu_ms: float
    wall_ms: float


async def _cpu_clock(conn: AsyncConnection) -> Callable[[], float]:
    """The database's CPU seconds so far: the PostgreSQL backend of ``conn``, or this process."""
    if conn.dialect.name == "postgresql":
        pid = int(await conn.scalar(text("SELECT pg_backend_pid()")))
        return lambda: cpu_seconds([pid])
    return time.process_time


async def _switch(conn: AsyncConnection, on: bool) -> None:
    if conn.dialect.name == "postgresql":
        found = await conn.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'messages'::regclass AND tgname LIKE :like"),
            {"like": TRIGGERS},
        )
        for (name,) in found.all():
            await conn.exec_driver_sql(f"ALTER TABLE messages {'ENABLE' if on else 'DISABLE'} TRIGGER {name}")
    elif not on:  # SQLite: dropped inside the transaction, back at its rollback
        found = await conn.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages' "
                "AND name LIKE :like ESCAPE '\\'"
            ),
            {"like": TRIGGERS},
        )
        for (name,) in found.all():
            await conn.exec_driver_sql(f"DROP TRIGGER {name}")


def _rows(conversations: list[tuple[str, str, str | None]], kind: str, inserts: int) -> list[dict[str, Any]]:
    rng = random.Random(inserts)
    now = datetime.now(UTC)
    rows = []
    for i in range(inserts):
        conversation_id, org, assignee = rng.choice(conversations)
        customer = kind == "customer"
        at = now + timedelta(milliseconds=i)  # new messages: after every one the history holds
        values = [
            str(uuid.uuid4()),
            org,
            conversation_id,
            "INBOUND" if customer else "OUTBOUND",
            "CUSTOMER" if customer else "AGENT",
            None if customer else assignee,
            "text",
            "bench",
            "RECEIVED" if customer else "SENT",
            at,
            False,
            False,
            at,
            at,
        ]
        rows.append({f"p{j}": v for j, v in enumerate(values)})
    return rows


async def _round(
    conn: AsyncConnection, clock: Callable[[], float], rows: list[dict[str, Any]], on: bool
) -> Sample:
    async with conn.begin() as transaction:
        await _switch(conn, on)
        cpu, wall = clock(), time.perf_counter()
        await conn.execute(text(INSERT), rows)
        sample = Sample((clock() - cpu) * 1000 / len(rows), (time.perf_counter() - wall) * 1000 / len(rows))
        await transaction.rollback()
    return sample


async def _measure(
    run: Callable[[bool], Awaitable[Sample]], rounds: int
) -> tuple[list[Sample], list[Sample]]:
    on: list[Sample] = []
    off: list[Sample] = []
    for r in range(rounds):
        for state in (True, False) if r % 2 == 0 else (False, True):
            (on if state else off).append(await run(state))
    return on, off


def _each(samples: list[Sample]) -> str:
    return ", ".join(f"{s.cpu_ms:.3f}" for s in samples)


def _median(samples: list[Sample], field: str) -> float:
    return statistics.median(getattr(s, field) for s in samples)


async def run(args: argparse.Namespace) -> None:
    _, _, runtime = await migrated_runtime(args.database_url)
    try:
        bench = await ensure_dataset(runtime, args.conversations)
        await ensure_rollups(runtime, bench)
        await vacuum(runtime)  # the rolled-back rounds of an earlier run leave dead rows behind
        async with runtime.engine.connect() as conn:
            found = await conn.execute(
                text(
                    "SELECT id, organization_id, assigned_to_id FROM conversations "
                    "WHERE organization_id = :org AND assigned_to_id IS NOT NULL LIMIT 5000"
                ),
                {"org": bench.organization_id},
            )
            conversations = [tuple(row) for row in found]
            clock = await _cpu_clock(conn)
            await conn.commit()
            print(f"{runtime.engine.dialect.name}, {machine()}, load average {load_average()}")
            print("kind      | with triggers: CPU ms, wall ms / insert | without | ratio (CPU without/with)")
            for kind in ("customer", "agent"):
                rows = _rows(conversations, kind, args.inserts)
                await _round(conn, clock, rows, True)  # warm: plans, caches
                on, off = await _measure(functools.partial(_round, conn, clock, rows), args.rounds)
                cpu = _median(on, "cpu_ms"), _median(off, "cpu_ms")
                wall = _median(on, "wall_ms"), _median(off, "wall_ms")
                print(
                    f"{kind:9} | {cpu[0]:.3f}, {wall[0]:.3f} | {cpu[1]:.3f}, {wall[1]:.3f} | "
                    f"{cpu[1] / cpu[0]:.2f}  (CPU each round on: {_each(on)}; off: {_each(off)})"
                )
            print(f"load average {load_average()}")
    finally:
        await runtime.stop()


def main() -> None:
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
