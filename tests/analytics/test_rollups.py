"""The rollups answer what the rows say: a random history (out-of-order messages, reopened,
reassigned and deleted conversations, times with microseconds) read through the endpoints, which
read the rollups the triggers keep, equals the figures recomputed here from the rows themselves
by the written definitions, for ranges on and off the 15-minute slots and in whole-, half- and
quarter-hour zones; again once the pending slot changes are folded, and once the rollups are rebuilt
from scratch."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cxinbox.analytics import rollups
from cxinbox.analytics.period import parse_period
from cxinbox.models.identity import Plan, Role
from cxinbox.models.inbox import (
    Conversation,
    ConversationStatus,
    ConversationTimelineEntry,
    Direction,
    Message,
    SenderType,
    TimelineKind,
)
from tests.analytics.history import Writer
from tests.fixtures.factories import Factory
from tests.fixtures.whatsapp import connect_number

START = datetime(2026, 3, 6, 0, 0, tzinfo=UTC)
STATUSES = list(ConversationStatus)
RANGES = [
    ("2026-03-07T00:00:00", "2026-03-10T00:00:00", "America/New_York"),  # days, whole slots
    ("2026-03-06T09:07:13.250000", "2026-03-09T17:52:01", "Asia/Kolkata"),  # days, off the slots
    ("2026-03-07T10:10:00", "2026-03-08T22:20:00", "Asia/Kathmandu"),  # hours at +05:45
    ("2026-03-07T12:03:00", "2026-03-07T12:11:00", "UTC"),  # inside one slot
]


def _iso(t: datetime) -> str:
    return t.replace(tzinfo=None).isoformat(timespec="microseconds")


async def _random_history(runtime, graph) -> tuple[Any, list[Any]]:
    rng = random.Random(20261207)
    factory = Factory(runtime)
    org = await factory.org(plan=Plan.ENTERPRISE)
    agents = [await factory.member(org.id, Role.AGENT) for _ in range(3)]
    account = await connect_number(runtime, graph, org.id)

    def moment(after: datetime, hours: float) -> datetime:
        return after + timedelta(seconds=rng.uniform(0, hours * 3600), microseconds=rng.randrange(10**6))

    async with runtime.unit_of_work() as session:
        w = Writer(session, org.id, account.id)
        ids = []
        for _ in range(60):
            created = moment(START, 4 * 24)
            status = rng.choice(STATUSES)
            closed = moment(created, 30) if status is ConversationStatus.CLOSED else None
            cid = await w.conversation(
                _iso(created),
                status=status,
                closed=_iso(closed) if closed else None,
                assignee=rng.choice([None, *agents]),
                category=rng.choice([None, "billing", "shipping"]),
            )
            ids.append(cid)
            senders = [rng.choice(list(SenderType)) for _ in range(rng.randint(0, 6))]
            times = sorted(moment(created, 6) for _ in senders)
            order = list(zip(senders, times, strict=True))
            rng.shuffle(order)  # the provider's timestamps arrive out of order
            for sender, when in order:
                user = rng.choice(agents) if sender is SenderType.AGENT else None
                w.message(cid, _iso(when), sender, user)
                await session.flush()
            for _ in range(rng.randint(0, 2)):
                agent = rng.choice(agents)
                w.move(cid, _iso(moment(created, 3)), TimelineKind.ASSIGNEE, None, agent.id)
            if rng.random() < 0.4:
                to = rng.choice(["HUMAN_HANDLING", "OPEN", "CLOSED"])
                w.move(cid, _iso(moment(created, 2)), TimelineKind.STATUS, "BOT_HANDLING", to)
            await session.flush()
    async with runtime.unit_of_work() as session:  # later changes: reopen, close, reassign, delete
        for cid in rng.sample(ids, 20):
            conversation = await session.get_one(Conversation, cid)
            if conversation.status is ConversationStatus.CLOSED and rng.random() < 0.5:
                conversation.status = ConversationStatus.OPEN
            else:
                conversation.status = ConversationStatus.CLOSED
                conversation.closed_at = moment(conversation.created_at, 40)
            conversation.assigned_to_id = rng.choice(agents).id if rng.random() < 0.5 else None
            conversation.category = rng.choice([None, "returns"])
        await session.flush()
        for cid in rng.sample(ids, 3):
            await session.delete(await session.get_one(Conversation, cid))
    return org, agents


@pytest.fixture(scope="module")
async def random_history(runtime, graph):
    return await _random_history(runtime, graph)


async def _rows(runtime, organization_id: str) -> tuple[list[Any], list[Any], list[Any]]:
    async with runtime.unit_of_work() as session:
        conversations = (
            await session.scalars(select(Conversation).where(Conversation.organization_id == organization_id))
        ).all()
        messages = (
            await session.scalars(select(Message).where(Message.organization_id == organization_id))
        ).all()
        timeline = (
            await session.scalars(
                select(ConversationTimelineEntry).where(
                    ConversationTimelineEntry.organization_id == organization_id
                )
            )
        ).all()
    return list(conversations), list(messages), list(timeline)


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "p50Seconds": None, "p90Seconds": None, "meanSeconds": None}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50Seconds": statistics.median(ordered),
        "p90Seconds": ordered[math.ceil(0.9 * len(ordered)) - 1],
        "meanSeconds": round(statistics.fmean(ordered), 3),
    }


def _ratio(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 4)


def _expected(
    rows: tuple[list[Any], list[Any], list[Any]], start: str, end: str, zone: str
) -> dict[str, Any]:
    """Every figure of ``overview``, ``conversations`` and ``agents`` from the rows, by the
    definitions in ``cxinbox.analytics.definitions``."""
    conversations, messages, timeline = rows
    period = parse_period(datetime.fromisoformat(start), datetime.fromisoformat(end), zone)

    def inside(t: datetime | None, a: datetime = period.start, b: datetime = period.end) -> bool:
        return t is not None and a <= t < b

    def is_closed(c: Conversation, a: datetime = period.start, b: datetime = period.end) -> bool:
        return c.status is ConversationStatus.CLOSED and inside(c.closed_at, a, b)

    by_conversation = defaultdict(list)
    for m in messages:
        by_conversation[m.conversation_id].append(m)
    moves = defaultdict(list)
    for t in timeline:
        moves[t.conversation_id].append(t)
    created = [c for c in conversations if inside(c.created_at)]
    closed = [c for c in conversations if is_closed(c)]
    waits, unanswered = [], 0
    bot = handed = bot_resolved = 0
    for c in created:
        own = by_conversation[c.id]
        asked = min((m.ordered_at for m in own if m.sender_type is SenderType.CUSTOMER), default=None)
        if asked is not None:
            replies = [
                m.ordered_at
                for m in own
                if m.sender_type in (SenderType.AGENT, SenderType.BOT) and m.ordered_at >= asked
            ]
            if replies:
                waits.append((min(replies) - asked).total_seconds())
            else:
                unanswered += 1
        left = [t for t in moves[c.id] if t.kind is TimelineKind.STATUS and t.from_value == "BOT_HANDLING"]
        handed_off = any(t.to_value in ("HUMAN_HANDLING", "OPEN") for t in left)
        spoke = any(m.sender_type is SenderType.BOT for m in own)
        if c.status is ConversationStatus.BOT_HANDLING or spoke or left:
            bot += 1
            handed += handed_off
            bot_resolved += c.status is ConversationStatus.CLOSED and not handed_off
    series = []
    for b in period.buckets():
        series.append(
            {
                "newConversations": sum(inside(c.created_at, b.start, b.end) for c in conversations),
                "closedConversations": sum(is_closed(c, b.start, b.end) for c in conversations),
                "inboundMessages": sum(
                    inside(m.ordered_at, b.start, b.end) and m.direction is Direction.INBOUND
                    for m in messages
                ),
                "outboundMessages": sum(
                    inside(m.ordered_at, b.start, b.end) and m.direction is Direction.OUTBOUND
                    for m in messages
                ),
            }
        )
    assigned = [
        t for t in timeline if t.kind is TimelineKind.ASSIGNEE and t.to_value and inside(t.created_at)
    ]
    agent_waits = defaultdict(list)
    for t in assigned:
        answers = [
            m.ordered_at
            for m in by_conversation[t.conversation_id]
            if m.sender_type is SenderType.AGENT
            and m.sender_user_id == t.to_value
            and m.ordered_at >= t.created_at
        ]
        if answers:
            agent_waits[t.to_value].append((min(answers) - t.created_at).total_seconds())
    agent_messages = Counter(
        m.sender_user_id for m in messages if m.sender_type is SenderType.AGENT and inside(m.ordered_at)
    )

    def by(attribute: str) -> dict[str | None, int]:
        return dict(Counter(None if (v := getattr(c, attribute)) is None else str(v) for c in created))

    return {
        "new": len(created),
        "closed": len(closed),
        "inbound": sum(inside(m.ordered_at) and m.direction is Direction.INBOUND for m in messages),
        "outbound": sum(inside(m.ordered_at) and m.direction is Direction.OUTBOUND for m in messages),
        "firstResponse": {**_summary(waits), "unanswered": unanswered},
        "resolution": _summary([(c.closed_at - c.created_at).total_seconds() for c in closed]),
        "bot": {
            "conversations": bot,
            "handedOff": handed,
            "resolved": bot_resolved,
            "resolutionRate": _ratio(bot_resolved, bot),
            "handoffRate": _ratio(handed, bot),
        },
        "series": series,
        "byCategory": by("category"),
        "byTeam": by("team_id"),
        "byStatus": by("status"),
        "byOrigin": by("origin"),
        "agents": {
            user: (
                Counter(t.to_value for t in assigned)[user],
                sum(c.assigned_to_id == user for c in closed),
                agent_messages[user],
                _summary(agent_waits[user]),
            )
            for user in {t.to_value for t in assigned}
            | set(agent_messages)
            | {c.assigned_to_id for c in closed}
            if user is not None
        },
    }


async def _answered(client, org, start: str, end: str, zone: str) -> dict[str, Any]:
    params = {"from": start, "to": end, "timezone": zone}
    data = {}
    for path in ("overview", "conversations", "agents"):
        r = await client.get(f"/analytics/{path}", params=params, headers=org.admin.headers)
        assert r.status_code == 200, r.text
        data[path] = r.json()["data"]
    overview, conversations = data["overview"], data["conversations"]
    columns = ("newConversations", "closedConversations", "inboundMessages", "outboundMessages")
    assert conversations["series"] == overview["series"]
    assert conversations["firstResponse"] == overview["firstResponse"]
    return {
        **overview["conversations"],
        **overview["messages"],
        "firstResponse": overview["firstResponse"],
        "resolution": overview["resolution"],
        "bot": overview["bot"],
        "series": [{c: p[c] for c in columns} for p in overview["series"]],
        **{
            name: {c["key"]: c["count"] for c in conversations[name]}
            for name in ("byCategory", "byTeam", "byStatus", "byOrigin")
        },
        "agents": {
            row["userId"]: (row["assigned"], row["resolved"], row["messagesSent"], row["firstResponse"])
            for row in data["agents"]["agents"]
            if row["assigned"] or row["resolved"] or row["messagesSent"]
        },
    }


async def _check_every_range(client, runtime, org) -> None:
    rows = await _rows(runtime, org.id)
    for start, end, zone in RANGES:
        assert await _answered(client, org, start, end, zone) == _expected(rows, start, end, zone), (
            start,
            zone,
        )


async def test_the_rollups_equal_the_rows(client, runtime, random_history):
    org, _ = random_history
    await _check_every_range(client, runtime, org)


async def test_folded_and_rebuilt_rollups_equal_the_rows(client, runtime, random_history):
    org, _ = random_history
    async with runtime.unit_of_work() as session:
        await rollups.fold(session)
    await _check_every_range(client, runtime, org)
    async with runtime.unit_of_work() as session:
        await rollups.rebuild(session, org.id)
    await _check_every_range(client, runtime, org)


async def test_the_history_is_not_trivial(runtime, random_history):
    """The ranges see conversations answered and not, closed and reopened, bot and agent ones."""
    org, _ = random_history
    conversations, messages, timeline = await _rows(runtime, org.id)
    expected = _expected((conversations, messages, timeline), *RANGES[1])
    assert expected["firstResponse"]["count"] >= 5 and expected["firstResponse"]["unanswered"] >= 1
    assert expected["closed"] >= 5 and expected["bot"]["handedOff"] >= 1
    assert sum(row[3]["count"] for row in expected["agents"].values()) >= 1
