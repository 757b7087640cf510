"""``python -m bench.bot_metrics``: the bot studio's ``metrics/quality`` and ``metrics/sessions``
latency over a large history of bot sessions.

It reuses the inbox benchmark's organization (``bench.inbox_queries.dataset``: N conversations over
the last year) and gives each conversation one bot session (started where the conversation did,
closed ESCALATED, RESOLVED_CONFIRMED or ABANDONED, or still open), ``--turns`` finished bot turns
inside it with their traces (an LLM call each, tokens and latency) and, for one conversation in
five, a member's rating; once loaded, the metrics' days are rebuilt from those rows. Then it serves
the API with uvicorn on 127.0.0.1 and times each endpoint over HTTP, one request at a time, for a
30-day window and one that holds every session. Use a database of its own (PostgreSQL is loaded
with COPY).

    .venv/bin/python -m bench.bot_metrics --database-url postgresql+asyncpg://…/bench [--sessions 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete, func, insert, select

from bench.inbox_queries.dataset import Bench, ensure_dataset
from bench.inbox_queries.measure import Timing, api_server, migrated_runtime, same_params, table, time_http
from bench.machine import load_average, machine
from cxinbox.models.bot import BotConfig
from cxinbox.models.bot_sessions import BotSession
from cxinbox.models.bot_studio import BotFeedback
from cxinbox.models.bot_turns import BotTurn
from cxinbox.models.identity import Role, User
from cxinbox.models.inbox import Conversation, Message
from cxinbox.runtime import Runtime
from cxinbox.studio import metric_days

CLOSURES = {"ESCALATED": 0.35, "RESOLVED_CONFIRMED": 0.4, "ABANDONED": 0.2, None: 0.05}
BATCH = 5_000
TABLES = {"bot_sessions": BotSession, "bot_turns": BotTurn, "bot_feedback": BotFeedback}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sessions", type=int, default=100_000, help="conversations, one session each")
    parser.add_argument("--turns", type=int, default=3, help="finished bot turns per session")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per row")
    return parser.parse_args()


async def ensure_bot_rows(runtime: Runtime, bench: Bench, turns: int) -> None:
    org = bench.organization_id
    async with runtime.unit_of_work() as session:
        if await session.scalar(select(func.count()).where(BotTurn.organization_id == org)):
            print("reusing the bot sessions")
            await _analyze(runtime)
            return
        # the sessions the triggers opened for the dataset's BOT_HANDLING conversations: ours replace them
        await session.execute(delete(BotSession).where(BotSession.organization_id == org))
        config = BotConfig(organization_id=org, name="Bench", is_active=True, categories=[])
        session.add(config)
        await session.flush()
        config_id = config.id
        admin_id = await session.scalar(
            select(User.id).where(User.organization_id == org, User.role == Role.ADMIN)
        )
        conversations = (
            await session.execute(
                select(Conversation.id, Conversation.created_at).where(Conversation.organization_id == org)
            )
        ).all()
    print(f"adding {len(conversations):,} bot sessions, {turns} turns each…")
    rng = random.Random(11)
    closures, weights = list(CLOSURES), list(CLOSURES.values())
    batch: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for n, (conversation_id, started) in enumerate(conversations, 1):
        closure = rng.choices(closures, weights)[0]
        ended = started + timedelta(minutes=10 * turns + 5) if closure else None
        batch["bot_sessions"].append(
            _row(
                org,
                started,
                conversation_id=conversation_id,
                bot_config_id=config_id,
                started_at=started,
                ended_at=ended,
                closure_type=closure,
            )  # fmt: skip
        )
        for t in range(turns):
            at = started + timedelta(minutes=10 * t + 1)
            latency = rng.randint(300, 3000)
            call = {"model": "gpt-4o-mini", "inputTokens": 800, "outputTokens": 60, "latencyMs": latency}
            trace = {"retrieval": [], "llmCalls": [call], "tools": [], "notes": [], "decision": "REPLIED",
                     "latencyMs": latency}  # fmt: skip
            batch["bot_turns"].append(
                _row(
                    org,
                    at,
                    conversation_id=conversation_id,
                    message_id=str(uuid.uuid4()),
                    bot_config_id=config_id,
                    state="DONE",
                    failures=0,
                    decision="REPLIED",
                    trace=json.dumps(trace),
                )  # fmt: skip
            )
        if n % 5 == 0:
            batch["bot_feedback"].append(
                _row(
                    org,
                    started + timedelta(minutes=2),
                    message_id=None,
                    conversation_id=conversation_id,
                    user_id=admin_id,
                    rating=rng.randint(0, 1),
                )  # fmt: skip
            )
        if n % BATCH == 0 or n == len(conversations):
            await _load(runtime, batch)
            batch = {name: [] for name in TABLES}
            print(f"  {n:,} sessions", end="\r", flush=True)
    print()
    # the triggers appended a change per row loaded: the days computed at once replace them
    started = time.monotonic()
    async with runtime.unit_of_work() as session:
        await metric_days.rebuild(session, org)
    print(f"the metrics' days rebuilt in {time.monotonic() - started:.1f} s")
    await _analyze(runtime)


async def _analyze(runtime: Runtime) -> None:
    """Statistics, and on PostgreSQL the visibility map autovacuum keeps in steady state (the
    partial latency index is read index-only)."""
    async with runtime.engine.connect() as conn:
        if runtime.engine.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in (*TABLES, "bot_metric_days", "bot_metric_day_changes"):
                await conn.exec_driver_sql(f"VACUUM ANALYZE {name}")
        else:
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()


def _row(org: str, at: Any, **values: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "organization_id": org, "created_at": at, "updated_at": at, **values}


async def _load(runtime: Runtime, batch: dict[str, list[dict[str, Any]]]) -> None:
    """Feedback needs a message: the conversation's first one (read here, in the batch)."""
    async with runtime.engine.connect() as conn:
        feedback = batch["bot_feedback"]
        if feedback:
            ids = [f["conversation_id"] for f in feedback]
            stmt = select(Message.conversation_id, func.min(Message.id)).where(
                Message.conversation_id.in_(ids)
            )
            first = dict((await conn.execute(stmt.group_by(Message.conversation_id))).all())
            for row in feedback:
                row["message_id"] = first[row["conversation_id"]]
        if runtime.engine.dialect.name == "postgresql":
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None  # asyncpg's connection, open for the whole block
            for name, rows in batch.items():
                if rows:
                    names = list(rows[0])
                    await raw.copy_records_to_table(name, records=[tuple(r[c] for c in names) for r in rows],
                                                    columns=names)  # fmt: skip
        else:
            for name, model in TABLES.items():
                if batch[name]:
                    rows = [
                        {**r, "trace": json.loads(r["trace"])} if "trace" in r else r for r in batch[name]
                    ]
                    await conn.execute(insert(model), rows)
        await conn.commit()


async def time_endpoints(base: str, bench: Bench, requests: int) -> list[Timing]:
    timings = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        for days in (30, 365):
            for name, path, params in (
                ("quality", "/bot-config/metrics/quality", {"days": str(days)}),
                ("sessions", "/bot-config/metrics/sessions", {"days": str(days), "page": "1", "limit": "20"}),
                (
                    "sessions, ESCALATED",
                    "/bot-config/metrics/sessions",
                    {"days": str(days), "closureType": "ESCALATED", "page": "1", "limit": "20"},
                ),  # fmt: skip
                (
                    "sessions, page 200",
                    "/bot-config/metrics/sessions",
                    {"days": str(days), "page": "200", "limit": "20"},
                ),  # fmt: skip
            ):
                timing = await time_http(http, f"{name}, {days} days", bench.admin_token,
                                         same_params(params), requests, path)  # fmt: skip
                print(f"  {timing.name}: p50 {timing.p50:.1f} ms, p95 {timing.p95:.1f} ms")
                timings.append(timing)
    return timings


async def run(args: argparse.Namespace) -> None:
    env, data_dir, runtime = await migrated_runtime(args.database_url)
    try:
        bench = await ensure_dataset(runtime, args.sessions)
        await ensure_bot_rows(runtime, bench, args.turns)
    finally:
        await runtime.stop()
    print("timing through HTTP…")
    with api_server(env, data_dir, start_seconds=600) as base:
        timings = await time_endpoints(base, bench, args.requests)
    print()
    print(
        f"{args.sessions:,} bot sessions over a year ({args.turns} turns each) "
        f"on {runtime.engine.dialect.name}; "
        f"{args.requests} sequential requests per row; {machine()}, load average {load_average()}"
    )
    print(table(timings))


def main() -> None:
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
