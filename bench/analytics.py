"""``python -m bench.analytics``: every analytics endpoint's latency over a large history.

It reuses the inbox benchmark's organization (``bench.inbox_queries.dataset``: N conversations over
the last year, 5 messages each, the agents' ones signed by the assignee, 70% closed, most assigned),
adds what analytics read beyond it (an assignment in the timeline per assigned conversation, 40
campaigns of 1,000 recipients), rebuilds the analytics rollups (PostgreSQL's bulk load bypasses
their triggers), serves the API with uvicorn on 127.0.0.1 and times each endpoint over HTTP, one
request at a time, for a 30-day and a 365-day range. Use a database of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import insert, select, text

from bench.inbox_queries.dataset import MESSAGES_PER_CONVERSATION, Bench, ensure_dataset
from bench.inbox_queries.measure import (
    Timing,
    api_server,
    migrated_runtime,
    same_params,
    table,
    time_http,
)
from bench.machine import load_average, machine
from cxinbox.analytics import rollups
from cxinbox.models.analytics_rollups import ConversationFact
from cxinbox.models.campaigns import Campaign, CampaignRecipient
from cxinbox.models.inbox import ConversationTimelineEntry
from cxinbox.runtime import Runtime

CAMPAIGNS = 40
RECIPIENTS = 1_000
ENDPOINTS = ("overview", "conversations", "agents", "bot", "campaigns")
ZONE = "America/New_York"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CXINBOX_BENCH_DATABASE_URL", "sqlite+aiosqlite:///./data/bench-analytics.db"),
        help="SQLAlchemy URL (default: $CXINBOX_BENCH_DATABASE_URL or ./data/bench-analytics.db)",
    )
    parser.add_argument("-n", "--conversations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per endpoint and range")
    parser.add_argument("--days", default="30,365", help="the ranges timed, in days back from now")
    return parser.parse_args()


async def ensure_analytics_rows(runtime: Runtime, bench: Bench) -> None:
    """The timeline's assignments, the agents' names on their messages and the campaigns (once)."""
    org = bench.organization_id
    async with runtime.unit_of_work() as session:
        done = await session.scalar(
            select(ConversationTimelineEntry.id)
            .where(ConversationTimelineEntry.organization_id == org)
            .limit(1)
        )
        if done:
            return
        print("adding assignments, agents' messages and campaigns…")
        # one assignment per assigned conversation, when it was created (ids: the conversation's, marked)
        await session.execute(
            text(
                "INSERT INTO conversation_timeline (id, organization_id, conversation_id, kind, from_value, "
                "to_value, actor_type, actor_id, reason, created_at, updated_at) "
                "SELECT substr(id, 1, 34) || '-a', organization_id, id, 'ASSIGNEE', NULL, assigned_to_id, "
                "'SYSTEM', NULL, 'bench', created_at, created_at FROM conversations "
                "WHERE organization_id = :org AND assigned_to_id IS NOT NULL"
            ),
            {"org": org},
        )
        account = await session.scalar(
            text("SELECT id FROM whatsapp_accounts WHERE organization_id = :org LIMIT 1"), {"org": org}
        )
        rng = random.Random(3)
        now = datetime.now(UTC)
        statuses = ["READ"] * 5 + ["DELIVERED"] * 3 + ["SENT", "FAILED"]
        for c in range(CAMPAIGNS):
            created = now - timedelta(days=c * 9)
            campaign_id = str(uuid.uuid4())
            session.add(
                Campaign(
                    id=campaign_id,
                    organization_id=org,
                    name=f"Campaign {c}",
                    whatsapp_account_id=account,
                    language="en",
                    status="COMPLETED",
                    created_at=created,
                    total=RECIPIENTS,
                    estimated_cost=Decimal("25"),
                    spent=Decimal("23.5"),
                )
            )
            await session.flush()
            await session.execute(
                insert(CampaignRecipient),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "organization_id": org,
                        "campaign_id": campaign_id,
                        "position": r,
                        "phone": f"1555{c:03d}{r:05d}",
                        "status": rng.choice(statuses),
                        "cost": Decimal("0.025"),
                        "replied_at": created if rng.random() < 0.1 else None,
                        "created_at": created,
                        "updated_at": created,
                    }
                    for r in range(RECIPIENTS)
                ],
            )
    await vacuum(runtime)


async def vacuum(runtime: Runtime) -> None:
    """The statistics and, on PostgreSQL, the visibility map (index-only scans) after a bulk write,
    as autovacuum would leave them."""
    async with runtime.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")


async def ensure_rollups(runtime: Runtime, bench: Bench) -> None:
    """PostgreSQL's bulk load bypasses the rollups' triggers: rebuild them when the organization has
    no conversation facts (a database migrated after its load has them from the migration)."""
    async with runtime.unit_of_work() as session:
        if await session.scalar(
            select(ConversationFact.conversation_id)
            .where(ConversationFact.organization_id == bench.organization_id)
            .limit(1)
        ):
            return
        print("rebuilding the analytics rollups…")
        started = time.monotonic()
        await rollups.rebuild(session, bench.organization_id)
    await vacuum(runtime)
    print(f"rebuilt in {time.monotonic() - started:.0f} s")


async def time_endpoints(base: str, bench: Bench, requests: int, ranges: list[int]) -> list[Timing]:
    now = datetime.now(UTC).replace(microsecond=0)
    timings = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        for days in ranges:
            params = {
                "from": (now - timedelta(days=days)).isoformat(),
                "to": now.isoformat(),
                "timezone": ZONE,
            }
            for endpoint in ENDPOINTS:
                name = f"{endpoint}, {days} days"
                timing = await time_http(
                    http, name, bench.admin_token, same_params(params), requests, f"/analytics/{endpoint}"
                )
                timing.how = f"GET /analytics/{endpoint}?from=…&to=…&timezone={ZONE}"
                print(f"  {name}: p50 {timing.p50:.1f} ms, p95 {timing.p95:.1f} ms")
                timings.append(timing)
    return timings


async def run(args: argparse.Namespace) -> None:
    env, data_dir, runtime = await migrated_runtime(args.database_url)
    try:
        bench = await ensure_dataset(runtime, args.conversations)
        await ensure_analytics_rows(runtime, bench)
        await ensure_rollups(runtime, bench)
    finally:
        await runtime.stop()
    print("timing through HTTP…")
    ranges = [int(days) for days in args.days.split(",")]
    with api_server(env, data_dir, start_seconds=600) as base:  # a loaded machine starts it slowly
        timings = await time_endpoints(base, bench, args.requests, ranges)
    print()
    print(
        f"{args.conversations:,} conversations, {args.conversations * MESSAGES_PER_CONVERSATION:,} messages "
        f"over a year, {CAMPAIGNS * RECIPIENTS:,} campaign recipients on {runtime.engine.dialect.name}; "
        f"{args.requests} sequential requests per row; {machine()}; load average {load_average()}"
    )
    print(table(timings))


def main() -> None:
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
