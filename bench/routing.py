"""Routing and assignment: the decision's latency with 50 rules, what routing costs webhook ingest,
and auto-assignment's throughput and fairness.

One organization with 20 teams of 10 agents (200, all ONLINE), ``--conversations`` open
unassigned conversations (one contact and one customer message each) bulk-inserted, and 50 rules
(message text contains / regex, category, contact category, tag, origin, within business hours; most
do not match, so a decision reads many rules before the one that does).

1. Decision: for ``--samples`` conversations, the time of the engine's decision as the inbound
   pipeline makes it (``Router.route``, dry run: the plan read once, then facts and rules), and of a
   re-route's (the latest customer text read first, then ``Router.route``).
2. Ingest: ``--webhooks`` signed webhooks, each from a new customer (so each opens a conversation
   and is routed), posted to the app in process; messages stored per second with the 50 rules
   active and with none, alternated ``--rounds`` times (medians).
3. Assignment: ``assign_waiting`` over 20 auto-assigning teams: ROUND_ROBIN (capacity 10, 55
   waiting per team) and LEAST_BUSY (capacity 5, agents already holding 0-4, 60 waiting per team).

    .venv/bin/python -m bench.routing [--conversations 100000] [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update

from bench.inbox_queries.dataset import CATEGORIES, WORDS
from bench.seeding import organization_with_number
from bench.webhook_ingest import APP_SECRET, WEBHOOK_PATH, webhook
from cxinbox.app import create_app
from cxinbox.config import Settings
from cxinbox.core.logging import configure_logging
from cxinbox.migrations import upgrade
from cxinbox.models.identity import Presence, Role, User
from cxinbox.models.inbox import Contact, Conversation, ConversationStatus, Message
from cxinbox.models.routing import MatchType, RoutingRule, RoutingSettings
from cxinbox.models.teams import AssignmentStrategy, Team, TeamMember
from cxinbox.routing.assigner import assign_waiting
from cxinbox.routing.engine import Router, latest_customer_texts
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.signature import sign

TEAMS = 20
AGENTS_PER_TEAM = 10
RULES = 50
BATCH = 5_000
#: every seeded contact's WhatsApp id, unique within the run
CONTACT_NUMBERS = itertools.count(10**11)
#: each ingest webhook's customer: a new one every time, so each opens a conversation
CUSTOMERS = itertools.count(10**6)


@dataclass
class Org:
    id: str
    account_id: str
    number: str
    team_ids: list[str]
    #: each team's agents, in team order
    agents: list[list[str]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", help="the database, migrated by the bench (default: SQLite in a temp dir)"
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=2_000, help="conversations whose decision is timed")
    parser.add_argument("--webhooks", type=int, default=300, help="webhooks per ingest round")
    parser.add_argument("--rounds", type=int, default=3, help="ingest rounds with and without rules")
    return parser.parse_args()


def rules_of(team_ids: list[str]) -> list[dict[str, Any]]:
    """50 rules, a realistic mix; the conversations' words match few of them before the last ones."""
    kinds: list[tuple[str, list[dict[str, Any]]]] = [
        ("text contains", [{"field": "messageText", "operator": "contains", "value": "urgent{i}"}]),
        (
            "text regex",
            [{"field": "messageText", "operator": "regex", "value": r"\b(order|ord)-?{i}\d{{6}}\b"}],
        ),
        ("category", [{"field": "category", "operator": "in", "value": ["vip{i}", "legal{i}"]}]),
        ("tag", [{"field": "tag", "operator": "equals", "value": "escalated-{i}"}]),
        (
            "origin + hours",
            [
                {"field": "origin", "operator": "equals", "value": "OUTBOUND"},
                {"field": "withinBusinessHours", "operator": "equals", "value": False},
            ],
        ),
        ("contact category", [{"field": "contactCategory", "operator": "startsWith", "value": "partner{i}"}]),
        (
            "text not contains",
            [
                {"field": "messageText", "operator": "notContains", "value": "hello"},
                {"field": "messageText", "operator": "contains", "value": "lawyer{i}"},
            ],
        ),
    ]
    rules = []
    for i in range(RULES - len(CATEGORIES)):
        _, conditions = kinds[i % len(kinds)]
        filled = json.loads(
            json.dumps(conditions).replace("{i}", str(i)).replace("{{", "{").replace("}}", "}")
        )
        rules.append({"conditions": filled, "match_type": MatchType.ALL})
    # the last rules are the ones that match: one per category (70% of conversations have one)
    for category in CATEGORIES:
        rules.append(
            {
                "conditions": [
                    {"field": "category", "operator": "equals", "value": category},
                    {"field": "withinBusinessHours", "operator": "equals", "value": True},
                ],
                "match_type": MatchType.ALL,
            }
        )
    return [
        {**rule, "name": f"Rule {n}", "team_id": team_ids[n % len(team_ids)], "priority": n + 1}
        for n, rule in enumerate(rules)
    ]


async def seed_people(runtime: Runtime) -> Org:
    async with runtime.unit_of_work() as session:
        org, account = await organization_with_number(
            session, runtime, name="Routing bench", slug="bench-routing", token="bench-token"
        )
        teams = [Team(organization_id=org.id, name=f"Team {t}") for t in range(TEAMS)]
        agents = [
            User(
                organization_id=org.id,
                email=f"agent{a:03d}@{org.slug}.example.com",
                name=f"Agent {a}",
                role=Role.AGENT,
                status=Presence.ONLINE,
            )
            for a in range(TEAMS * AGENTS_PER_TEAM)
        ]
        session.add_all([*teams, *agents])
        await session.flush()
        members: list[list[str]] = [[] for _ in teams]
        for a, agent in enumerate(agents):
            t = a // AGENTS_PER_TEAM
            session.add(TeamMember(organization_id=org.id, team_id=teams[t].id, user_id=agent.id))
            members[t].append(agent.id)
        team_ids = [t.id for t in teams]
        session.add(RoutingSettings(organization_id=org.id, default_team_id=team_ids[0]))
        for rule in rules_of(team_ids):
            session.add(RoutingRule(organization_id=org.id, **rule))
        return Org(org.id, account.id, account.phone_number_id, team_ids, members)


def conversation_rows(
    org: Org, count: int, rng: random.Random, team_id: str | None = None, assigned_to_id: str | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(count):
        at = now - timedelta(seconds=count - i)
        contact_id, conversation_id = str(uuid.uuid4()), str(uuid.uuid4())
        text = " ".join(rng.choices(WORDS, k=rng.randint(4, 14))).capitalize()
        wa_id = str(next(CONTACT_NUMBERS))
        base = {"organization_id": org.id, "created_at": at, "updated_at": at}
        contact = {**base, "id": contact_id, "wa_id": wa_id, "phone": f"+{wa_id}", "name": f"Customer {i}"}
        conversation = {
            **base,
            "id": conversation_id,
            "contact_id": contact_id,
            "whatsapp_account_id": org.account_id,
            "status": "OPEN",
            "origin": "INBOUND",
            "team_id": team_id,
            "assigned_to_id": assigned_to_id,
            "category": rng.choice(CATEGORIES) if rng.random() < 0.7 else None,
            "priority": "NORMAL",
            "needs_action": True,
            "last_message_at": at,
            "last_message_preview": text[:200],
            "last_inbound_at": at,
        }
        message = {
            **base,
            "id": str(uuid.uuid4()),
            "conversation_id": conversation_id,
            "direction": "INBOUND",
            "sender_type": "CUSTOMER",
            "type": "text",
            "text": text,
            "status": "RECEIVED",
            "wa_message_id": f"wamid.bench.{conversation_id}",
            "provider_timestamp": at,
            "ordered_at": at,
            "is_hidden": False,
            "simulated": False,
        }
        yield contact, conversation, message


async def insert_conversations(runtime: Runtime, rows: Iterator[tuple[dict[str, Any], ...]]) -> None:
    batch: list[tuple[dict[str, Any], ...]] = []

    async def flush() -> None:
        async with runtime.engine.begin() as conn:
            for n, model in enumerate((Contact, Conversation, Message)):
                await conn.execute(insert(model), [row[n] for row in batch])
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            await flush()
    if batch:
        await flush()


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def decision_latency(runtime: Runtime, org: Org, samples: int) -> tuple[list[float], list[float], int]:
    """Per conversation ms: the decision as the pipeline makes it, and a re-route's (text read)."""
    async with runtime.read_session() as session:
        ids = list(
            await session.scalars(
                select(Conversation.id)
                .where(Conversation.organization_id == org.id)
                .order_by(func.random())
                .limit(samples)
            )
        )
        texts = await latest_customer_texts(session, ids)
        conversations = list(await session.scalars(select(Conversation).where(Conversation.id.in_(ids))))
        router = Router(session)
        await router.plan(org.id)  # read once per batch, as the pipeline does
        decide, reroute, routed = [], [], 0
        for conversation in conversations:
            started = time.perf_counter()
            outcome = await router.route(conversation, text=texts.get(conversation.id), dry_run=True)
            decide.append((time.perf_counter() - started) * 1000)
            routed += outcome.decision.rule_id is not None
        for conversation in conversations:
            started = time.perf_counter()
            text = (await latest_customer_texts(session, [conversation.id])).get(conversation.id)
            await router.route(conversation, text=text, dry_run=True)
            reroute.append((time.perf_counter() - started) * 1000)
    return decide, reroute, routed


async def set_rules_active(runtime: Runtime, org: Org, active: bool) -> None:
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(RoutingRule).where(RoutingRule.organization_id == org.id).values(is_active=active)
        )


async def stored_messages(runtime: Runtime, org: Org) -> int:
    async with runtime.read_session() as session:
        return int(await session.scalar(select(func.count()).where(Message.organization_id == org.id)) or 0)


async def ingest_rate(
    runtime: Runtime, client: httpx.AsyncClient, org: Org, count: int, rng: random.Random
) -> float:
    """Messages stored per second: ``count`` webhooks from new customers, 20 in flight."""
    bodies = [webhook(org.number, next(CUSTOMERS), " ".join(rng.choices(WORDS, k=8))) for _ in range(count)]
    before = await stored_messages(runtime, org)
    started = time.perf_counter()
    for start in range(0, count, 20):
        answers = await asyncio.gather(
            *(
                client.post(
                    WEBHOOK_PATH,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": sign(APP_SECRET, body),
                    },
                )
                for body in bodies[start : start + 20]
            )
        )
        assert all(a.status_code == 200 for a in answers), answers[0].text
    while await stored_messages(runtime, org) < before + count:
        await asyncio.sleep(0.02)
    return count / (time.perf_counter() - started)


async def ingest(runtime: Runtime, org: Org, count: int, rounds: int) -> tuple[float, float]:
    rng = random.Random(11)
    rates: dict[bool, list[float]] = {True: [], False: []}
    app = create_app(runtime=runtime)
    app.state.runtime = runtime  # what the lifespan sets; the in-process transport runs none
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        await ingest_rate(runtime, client, org, 50, rng)  # warm-up
        for _ in range(rounds):
            for active in (False, True):
                await set_rules_active(runtime, org, active)
                rates[active].append(await ingest_rate(runtime, client, org, count, rng))
    return statistics.median(rates[False]), statistics.median(rates[True])


async def assignment(
    runtime: Runtime, org: Org, strategy: AssignmentStrategy, capacity: int, per_team: int, preload: bool
) -> tuple[int, float, Counter[str]]:
    """Assigned, per second, and each agent's open load after the run."""
    rng = random.Random(5)
    async with runtime.unit_of_work() as session:  # start from no assignee holding anything
        await session.execute(
            update(Conversation)
            .where(Conversation.organization_id == org.id, Conversation.assigned_to_id.is_not(None))
            .values(status=ConversationStatus.CLOSED)
        )
        await session.execute(
            update(Conversation)
            .where(Conversation.organization_id == org.id, Conversation.team_id.is_not(None))
            .values(team_id=None)
        )
        await session.execute(
            update(Team)
            .where(Team.organization_id == org.id)
            .values(auto_assign=True, assignment_strategy=strategy, max_concurrent_per_agent=capacity)
        )
    for t, team_id in enumerate(org.team_ids):
        rows: list[Iterator[tuple[dict[str, Any], ...]]] = [conversation_rows(org, per_team, rng, team_id)]
        if preload:
            for agent in org.agents[t]:
                rows.append(conversation_rows(org, rng.randint(0, capacity - 1), rng, team_id, agent))
        for part in rows:
            await insert_conversations(runtime, part)
    started = time.perf_counter()
    assigned = await assign_waiting(runtime, org.id)
    elapsed = time.perf_counter() - started
    held = (
        select(Conversation.assigned_to_id, func.count())
        .where(
            Conversation.organization_id == org.id,
            Conversation.assigned_to_id.is_not(None),
            Conversation.status != ConversationStatus.CLOSED,
        )
        .group_by(Conversation.assigned_to_id)
    )
    async with runtime.read_session() as session:
        loads: Counter[str] = Counter({user_id: n for user_id, n in (await session.execute(held)).all()})
    for agents in org.agents:
        for agent in agents:
            loads.setdefault(agent, 0)
    return assigned, assigned / elapsed, loads


def settings_for(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url or f"sqlite+aiosqlite:///{data_dir}/bench.db",
        secret_key="bench-secret-key",
        meta_app_secret=APP_SECRET,
        rate_limits="off",
        log_level="WARNING",
    )


async def run(args: argparse.Namespace, data_dir: Path) -> list[tuple[str, str, str]]:
    settings = settings_for(data_dir, args.database_url)
    await asyncio.to_thread(upgrade, settings.database_url)
    runtime = Runtime(settings)
    await runtime.start(workers=True)
    rows: list[tuple[str, str, str]] = []
    try:
        org = await seed_people(runtime)
        started = time.monotonic()
        await insert_conversations(runtime, conversation_rows(org, args.conversations, random.Random(7)))
        seeded = time.monotonic() - started
        print(f"seeded {args.conversations:,} open conversations in {seeded:.0f} s")
        decide, reroute, routed = await decision_latency(runtime, org, args.samples)
        shown = f"{len(decide):,} of {args.conversations:,} conversations, {RULES} rules, {routed} by a rule"
        for label, values in (
            ("decision (pipeline: Router.route)", decide),
            ("re-route (text read + decision)", reroute),
        ):
            rows.append(
                (
                    f"{label} p50 / p99 ms",
                    f"{statistics.median(values):.3f} / {percentile(values, 99):.3f}",
                    shown,
                )
            )
        off, on = await ingest(runtime, org, args.webhooks, args.rounds)
        note = f"{args.webhooks} webhooks × {args.rounds} rounds, each a new conversation (medians)"
        rows.append(("ingest msg/s: no rules / 50 rules", f"{off:.0f} / {on:.0f}", note))
        rows.append(("ingest ratio (50 rules ÷ none)", f"{on / off:.2f}", "aim ≥ 0.9"))
        # assignment is timed alone: no worker (nor the minutely sweep) assigning beside it
        await runtime.stop()
        runtime = Runtime(settings)
        await runtime.start(workers=False)
        assigned, rate, loads = await assignment(runtime, org, AssignmentStrategy.ROUND_ROBIN, 10, 55, False)
        spread = max(loads.values()) - min(loads.values())
        rows.append(
            ("ROUND_ROBIN assigned/s", f"{rate:.0f}", f"{assigned:,} to 200 agents in 20 teams, capacity 10")
        )
        rows.append(
            (
                "ROUND_ROBIN busiest − idlest",
                str(spread),
                f"loads {min(loads.values())}–{max(loads.values())}; aim ≤ 1",
            )
        )
        assigned, rate, loads = await assignment(runtime, org, AssignmentStrategy.LEAST_BUSY, 5, 60, True)
        rows.append(
            ("LEAST_BUSY assigned/s", f"{rate:.0f}", f"{assigned:,}, agents holding 0–4 first, capacity 5")
        )
        over = sum(1 for n in loads.values() if n > 5)
        rows.append(
            (
                "LEAST_BUSY max load / capacity",
                f"{max(loads.values())} / 5",
                f"{over} agents over capacity; aim 0",
            )
        )
    finally:
        await runtime.stop()
    return rows


def table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| figure | value | notes |", "|---|---:|---|"]
    lines += [f"| {label} | {value} | {note} |" for label, value, note in rows]
    return "\n".join(lines)


async def main() -> None:
    args = parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        rows = await run(args, Path(tmp))
    print(table(rows))


if __name__ == "__main__":
    asyncio.run(main())
