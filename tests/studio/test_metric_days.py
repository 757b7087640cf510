"""The metrics' per-day figures answer what the rows say: a random script of bot sessions, turns and
ratings (sessions inserted after their turns, turns finished and retraced later, sessions closed,
moved to another day and deleted, ratings changed, moved and deleted, a conversation deleted with
all of it, another organization's rows alongside), read through ``metrics/quality`` and
``metrics/sessions``, equals the figures recomputed here from the rows, for windows whose first day
the rows must complete; and through ``metric_days.figures`` for windows starting exactly on a UTC
midnight, on a row's instant and anywhere else. Again once the pending changes are folded, and once
the days are rebuilt from scratch (which must give the days the fold gave).

The turns of a session and a turn's model latency are the columns that revision 0225's triggers
keep (``bot_sessions.turns``, ``bot_turns.model_latency_ms``); tests/studio/test_metrics.py checks
those against the turns' traces."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from cxinbox.core.clock import utcnow
from cxinbox.models.bot_metric_days import BotMetricDay, BotMetricDayChange
from cxinbox.models.bot_sessions import BotSession, BotSessionClosure
from cxinbox.models.bot_studio import BotFeedback
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.inbox import Conversation, Message
from cxinbox.studio import metric_days
from cxinbox.studio.metric_days import DAY_SECONDS, day_start, first_whole_day
from tests.fixtures.bot_sessions import keep_open
from tests.fixtures.inbox import Inbox, make_inbox

WINDOWS = (1, 2, 3, 5, 8, 30)
SPAN_DAYS = 9
CLOSURES = [*BotSessionClosure, None]
#: no generated instant is this close to a window's start, so the few seconds between reading the
#: clock here and the endpoint reading it cannot move a row in or out of a window
MARGIN = timedelta(minutes=30)


@dataclass
class Script:
    inbox: Inbox
    now: datetime
    midnights: list[datetime]
    instants: list[datetime]


def _trace(latency: int | None) -> dict[str, Any]:
    calls = (
        [] if latency is None else [{"model": "m", "inputTokens": 5, "outputTokens": 2, "latencyMs": latency}]
    )
    return {"retrieval": [], "llmCalls": calls, "tools": [], "notes": [], "decision": "REPLIED",
            "latencyMs": latency or 0}  # fmt: skip


class _Writer:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now = rng, now
        self.starts = [now - timedelta(days=days) for days in WINDOWS]
        self.midnights = [day_start(first_whole_day(now) - d) for d in range(1, SPAN_DAYS)]

    def moment(self, after: datetime | None = None, hours: float | None = None) -> datetime:
        """A random instant (with microseconds) in the script's span, or ``hours`` after ``after``,
        never too near a window's start; one in eight exactly on a UTC midnight."""
        while True:
            if after is None and self.rng.random() < 0.125:
                return self.rng.choice(self.midnights)
            base = after or self.now - timedelta(days=SPAN_DAYS)
            span = (hours or SPAN_DAYS * 24) * 3600
            at = base + timedelta(seconds=self.rng.uniform(0, span), microseconds=self.rng.randrange(10**6))
            if at < self.now and all(abs(at - s) > MARGIN for s in self.starts):
                return at


async def _script(client, runtime, factory, graph, seed: int) -> Script:
    rng = random.Random(seed)
    inbox = await make_inbox(client, runtime, factory, graph)
    convs = [await inbox.in_team(f"hola {i}") for i in range(6)]
    members = [inbox.admin.id, inbox.agent.id, inbox.supervisor.id, inbox.other_agent.id]
    w = _Writer(rng, utcnow())
    org = inbox.org.id
    instants: list[datetime] = []

    def turn(conversation_id: str | None, at: datetime) -> BotTurn:
        state = rng.choice([TurnState.DONE, TurnState.DONE, TurnState.RUNNING])
        instants.append(at)
        return BotTurn(
            organization_id=org,
            conversation_id=conversation_id,
            message_id=None if conversation_id is None else str(uuid.uuid4()),
            state=state,
            decision=TurnDecision.REPLIED if state is TurnState.DONE else None,
            trace=_trace(rng.choice([None, rng.randint(100, 5000)])) if state is TurnState.DONE else {},
            created_at=at,
            updated_at=at,
        )

    async with runtime.unit_of_work() as session:
        for n, conversation_id in enumerate(convs):
            starts = sorted(w.moment() for _ in range(rng.randint(1, 4)))
            sessions = []
            for i, started in enumerate(starts):
                last = i == len(starts) - 1
                closure = rng.choice(CLOSURES) if last else rng.choice(list(BotSessionClosure))
                ended = None if closure is None else min(w.moment(started, 20), *starts[i + 1 :], w.now)
                sessions.append(
                    BotSession(
                        organization_id=org,
                        conversation_id=conversation_id,
                        started_at=started,
                        ended_at=ended,
                        closure_type=closure,
                    )
                )
                instants.append(started)
            turns = [
                turn(conversation_id, w.moment(s.started_at, 20))
                for s in sessions
                for _ in range(rng.randint(0, 3))
            ]
            if n % 2:  # the turns first: the sessions count them when they are inserted
                session.add_all(turns)
                await session.flush()
                session.add_all(sessions)
            else:
                session.add_all(sessions)
                await session.flush()
                session.add_all(turns)
            await session.flush()
            await keep_open(session, conversation_id)
        session.add_all(turn(None, w.moment()) for _ in range(3))  # the sandbox's
        messages = (await session.scalars(select(Message.id).where(Message.conversation_id.in_(convs)))).all()
        for message in messages:
            for user in rng.sample(members, rng.randint(0, len(members))):
                at = w.moment()
                instants.append(at)
                conversation_id = await session.scalar(
                    select(Message.conversation_id).where(Message.id == message)
                )
                session.add(
                    BotFeedback(
                        organization_id=org,
                        message_id=message,
                        conversation_id=conversation_id,
                        user_id=user,
                        rating=rng.randint(0, 1),
                        created_at=at,
                        updated_at=at,
                    )
                )
    async with runtime.unit_of_work() as session:  # later: turns finish, sessions close and move
        for t in (await session.scalars(select(BotTurn).where(BotTurn.organization_id == org))).all():
            if t.state is TurnState.RUNNING and rng.random() < 0.5:
                t.state, t.decision, t.trace = (
                    TurnState.DONE,
                    TurnDecision.REPLIED,
                    _trace(rng.randint(1, 900)),
                )
            elif t.state is TurnState.DONE and rng.random() < 0.3:
                t.trace = _trace(rng.choice([None, rng.randint(100, 5000)]))
        rows = (await session.scalars(select(BotSession).where(BotSession.organization_id == org))).all()
        for s in rng.sample(list(rows), 6):
            if s.closure_type is None:
                s.closure_type, s.ended_at = BotSessionClosure.ESCALATED, w.now - timedelta(seconds=1)
            elif rng.random() < 0.5:
                s.started_at = w.moment()
            else:
                s.turns += 1  # a finished turn counted late
        await session.flush()
        await session.delete(rng.choice(list(rows)))
        ratings = (await session.scalars(select(BotFeedback).where(BotFeedback.organization_id == org))).all()
        for f in rng.sample(list(ratings), min(6, len(ratings))):
            if rng.random() < 0.5:
                f.rating = 1 - f.rating
            else:
                f.created_at = w.moment()
        await session.flush()
        await session.delete(ratings[0])
        await session.execute(delete(Conversation).where(Conversation.id == convs[-1]))
    return Script(inbox, w.now, w.midnights, instants)


@pytest.fixture
async def scripts(client, runtime, factory, graph) -> tuple[Script, Script]:
    return (
        await _script(client, runtime, factory, graph, 20261207),
        await _script(client, runtime, factory, graph, 7),
    )


async def _rows(runtime, organization_id: str) -> tuple[list[BotSession], list[BotTurn], list[BotFeedback]]:
    async with runtime.unit_of_work() as session:

        async def of(model: Any) -> list[Any]:
            return list(
                (await session.scalars(select(model).where(model.organization_id == organization_id))).all()
            )

        return await of(BotSession), await of(BotTurn), await of(BotFeedback)


def _rate(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 4)


def _expected(
    rows: tuple[list[BotSession], list[BotTurn], list[BotFeedback]], since: datetime
) -> dict[str, Any]:
    """``quality`` by its definition, from the rows."""
    sessions, turns, ratings = rows
    window = [s for s in sessions if s.started_at >= since]
    closures = Counter(s.closure_type for s in window)
    latencies = [
        t.model_latency_ms for t in turns if t.created_at >= since and t.model_latency_ms is not None
    ]
    given = Counter(f.rating for f in ratings if f.created_at >= since)
    n = len(window)
    return {
        "sessions": n,
        "resolvedRate": _rate(closures[BotSessionClosure.RESOLVED_CONFIRMED], n),
        "escalationRate": _rate(closures[BotSessionClosure.ESCALATED], n),
        "abandonRate": _rate(closures[BotSessionClosure.ABANDONED], n),
        "avgTurns": None if not n else round(sum(s.turns for s in window) / n, 2),
        "feedback": {"positive": given[1], "negative": given[0]},
        "avgLatencyMs": round(sum(latencies) / len(latencies)) if latencies else None,
    }


def _from_figures(figures: Counter[str]) -> dict[str, Any]:
    n = sum(figures[c] for c in ("OPEN", "ESCALATED", "RESOLVED_CONFIRMED", "ABANDONED"))
    timed = figures["LATENCY_TURNS"]
    return {
        "sessions": n,
        "resolvedRate": _rate(figures["RESOLVED_CONFIRMED"], n),
        "escalationRate": _rate(figures["ESCALATED"], n),
        "abandonRate": _rate(figures["ABANDONED"], n),
        "avgTurns": None if not n else round(figures["TURNS"] / n, 2),
        "feedback": {"positive": figures["HELPFUL"], "negative": figures["NOT_HELPFUL"]},
        "avgLatencyMs": round(figures["LATENCY_MS"] / timed) if timed else None,
    }


async def _check(client, runtime, script: Script) -> None:
    org = script.inbox.org.id
    headers = script.inbox.supervisor.headers
    rows = await _rows(runtime, org)
    assert rows[0] and rows[1] and rows[2]
    now = utcnow()
    assert now - script.now < MARGIN, "the script's instants avoid the windows' starts only so long"
    for days in WINDOWS:
        since = now - timedelta(days=days)
        r = await client.get(f"/bot-config/metrics/quality?days={days}", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["data"] == _expected(rows, since), days
        for closure in CLOSURES:
            query = f"days={days}&limit=7&page=2" + (f"&closureType={closure.value}" if closure else "")
            r = await client.get(f"/bot-config/metrics/sessions?{query}", headers=headers)
            assert r.status_code == 200, r.text
            listed = [
                s
                for s in sorted(rows[0], key=lambda s: (s.started_at, s.id), reverse=True)
                if s.started_at >= since and (closure is None or s.closure_type is closure)
            ]
            assert r.json()["meta"]["total"] == len(listed), (days, closure)
            assert [s["id"] for s in r.json()["data"]] == [s.id for s in listed[7:14]], (days, closure)
    # windows from a midnight (no partial day), from a row's instant (the row counts), and between
    rng = random.Random(len(rows[0]))
    starts = [*script.midnights, *rng.sample(script.instants, 10)]
    starts += [m + timedelta(seconds=rng.uniform(1, DAY_SECONDS - 1)) for m in script.midnights]
    async with runtime.unit_of_work() as session:
        for since in starts:
            figures = await metric_days.figures(session, org, since, list(metric_days.BotDayMetric))
            assert _from_figures(figures) == _expected(rows, since), since


async def _days(runtime, organization_id: str) -> dict[tuple[int, str], int]:
    async with runtime.unit_of_work() as session:
        pending = await session.scalar(
            select(BotMetricDayChange.id)
            .where(BotMetricDayChange.organization_id == organization_id)
            .limit(1)
        )
        assert pending is None
        rows = await session.execute(
            select(BotMetricDay.day, BotMetricDay.metric, BotMetricDay.value).where(
                BotMetricDay.organization_id == organization_id, BotMetricDay.value != 0
            )
        )
        return {(day, metric): value for day, metric, value in rows}


async def test_the_days_answer_what_the_rows_say(client, runtime, scripts):
    for script in scripts:
        await _check(client, runtime, script)
    async with runtime.unit_of_work() as session:
        await metric_days.fold(session)
    folded = [await _days(runtime, s.inbox.org.id) for s in scripts]
    assert all(folded)
    for script in scripts:
        await _check(client, runtime, script)
    async with runtime.unit_of_work() as session:
        for script in scripts:
            await metric_days.rebuild(session, script.inbox.org.id)
    assert [await _days(runtime, s.inbox.org.id) for s in scripts] == folded
    for script in scripts:
        await _check(client, runtime, script)
