"""``python -m bench.inbox_queries``: generate (or reuse) a large inbox, then time its queries."""

from __future__ import annotations

import argparse
import asyncio
import os

from bench.inbox_queries.dataset import MESSAGES_PER_CONVERSATION, ensure_dataset
from bench.inbox_queries.gate import reads_while_gate_held
from bench.inbox_queries.measure import (
    active_contacts,
    api_server,
    http_timings,
    latest_messages_timing,
    migrated_runtime,
    table,
)
from bench.inbox_queries.under_writes import phases_table, reads_under_writes
from bench.machine import load_average, machine

DEFAULT_POSTGRESQL = 1_000_000
DEFAULT_SQLITE = 20_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.inbox_queries",
        description="Generate an organization with N conversations and 5N messages (once per database and "
        "N; later runs reuse it), serve the API with uvicorn on 127.0.0.1, and print p50/p95 latencies of "
        "the inbox's list, filter, search and count queries. Use a database of its own.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CXINBOX_BENCH_DATABASE_URL", "sqlite+aiosqlite:///./data/bench-inbox.db"),
        help="SQLAlchemy URL (default: $CXINBOX_BENCH_DATABASE_URL or ./data/bench-inbox.db)",
    )
    parser.add_argument(
        "-n",
        "--conversations",
        type=int,
        default=None,
        help=f"conversations to generate ({DEFAULT_POSTGRESQL:,} on PostgreSQL, {DEFAULT_SQLITE:,} on "
        f"SQLite); messages are {MESSAGES_PER_CONVERSATION}x",
    )
    parser.add_argument("--requests", type=int, default=100, help="timed requests per query (default 100)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--only",
        default="",
        help="time only the queries whose name contains one of these words (comma-separated)",
    )
    parser.add_argument(
        "--under-writes",
        action="store_true",
        help="instead: time GET /conversations from --readers clients alone, then while --writers clients "
        "change conversations (PATCH), --seconds each",
    )
    parser.add_argument(
        "--gate-hold",
        action="store_true",
        help="instead: in-process, time the list query from --readers tasks through a read session, then "
        "through a unit of work (as before), each alone and while --writers tasks run writes that hold "
        "the write gate --hold-ms each, --seconds per phase",
    )
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hold-ms", type=float, default=50.0, help="--gate-hold: each write's open time")
    return parser.parse_args()


async def run(args: argparse.Namespace) -> None:
    postgresql = args.database_url.startswith("postgresql")
    conversations = args.conversations or (DEFAULT_POSTGRESQL if postgresql else DEFAULT_SQLITE)
    only = [word.strip() for word in args.only.split(",") if word.strip()]
    env, data_dir, runtime = await migrated_runtime(args.database_url)
    try:
        bench = await ensure_dataset(runtime, conversations, seed=args.seed)
        if args.under_writes:
            with api_server(env, data_dir) as base:
                phases = await reads_under_writes(
                    base, bench, readers=args.readers, writers=args.writers, seconds=args.seconds
                )
            print(phases_table(phases))
            return
        if args.gate_hold:
            phases = await reads_while_gate_held(
                runtime,
                bench,
                readers=args.readers,
                writers=args.writers,
                hold_ms=args.hold_ms,
                seconds=args.seconds,
            )
            print(f"{conversations:,} conversations on {runtime.engine.dialect.name}; {os.cpu_count()} CPUs")
            print(phases_table(phases))
            return
        print("timing through HTTP…")
        contacts = await active_contacts(runtime, bench, args.requests, args.seed)
        with api_server(env, data_dir) as base:
            timings = await http_timings(base, bench, contacts, args.requests, only)
        if not only or any(word in "latest messages" for word in only):
            timings.append(await latest_messages_timing(runtime, bench, args.requests, args.seed))
    finally:
        await runtime.stop()
    print()
    print(
        f"{conversations:,} conversations, {conversations * MESSAGES_PER_CONVERSATION:,} messages on "
        f"{runtime.engine.dialect.name}; {args.requests} sequential requests per query; {machine()}; "
        f"load average {load_average()}"
    )
    print(table(timings))


def main() -> None:
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
