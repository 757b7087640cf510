"""/bot-config/metrics over a known history written through the models: sessions of each closure,
open and outside the window; finished, running and sandbox turns with their traces; feedback; and
another organization's rows, never counted and never reachable (404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cxinbox.core.clock import utcnow
from cxinbox.models.bot_sessions import BotSession, BotSessionClosure
from cxinbox.models.bot_studio import BotFeedback
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.inbox import Message
from tests.fixtures.bot_sessions import keep_open
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import error_code

Closure = BotSessionClosure


def _call(tokens_in: int, tokens_out: int, latency: int) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "inputTokens": tokens_in,
        "outputTokens": tokens_out,
        "latencyMs": latency,
    }


def _trace(decision: TurnDecision, *calls: dict[str, Any], **extra: Any) -> dict[str, Any]:
    latency = sum(c["latencyMs"] for c in calls)
    return {
        "retrieval": [],
        "llmCalls": list(calls),
        "tools": [],
        "notes": [],
        **extra,
        "decision": decision.value,
        "latencyMs": latency,
    }


HANDOFF_TRACE = _trace(
    TurnDecision.HANDOFF,
    _call(50, 5, 200),
    _call(60, 6, 400),
    retrieval=[
        {"chunkId": "c1", "documentId": "d1", "document": "faq.txt", "page": None, "score": 0.91},
        {"chunkId": "c2", "documentId": "d1", "document": "faq.txt", "page": None, "score": 0.55},
    ],
    tools=[
        {
            "name": "order_status",
            "toolId": "t1",
            "arguments": {"orderId": "7"},
            "ok": True,
            "status": 200,
            "latencyMs": 80,
            "error": None,
        }
    ],
    handoff={"reason": "HANDOFF_TOOL", "summary": "Pide un reembolso", "teamId": None, "said": "reembolso"},
)


@dataclass
class History:
    inbox: Any
    ids: dict[str, str]


async def _history(client, runtime, factory, graph) -> History:
    inbox = await make_inbox(client, runtime, factory, graph)
    now = utcnow()
    convs = [await inbox.in_team(f"hola {i}") for i in range(4)]
    ids: dict[str, str] = {}
    async with runtime.unit_of_work() as session:
        org = inbox.org.id

        def add_session(
            conv: str, start: timedelta, length: timedelta | None, closure: BotSessionClosure | None
        ) -> BotSession:
            started = now - start
            row = BotSession(
                organization_id=org,
                conversation_id=conv,
                started_at=started,
                ended_at=None if length is None else started + length,
                closure_type=closure,
            )
            session.add(row)
            return row

        def add_turn(
            name: str,
            conv: str | None,
            at: Any,
            decision: TurnDecision | None,
            trace: dict[str, Any],
            state: TurnState = TurnState.DONE,
            reason: str | None = None,
        ) -> None:
            row = BotTurn(
                organization_id=org,
                conversation_id=conv,
                message_id=None if conv is None else name,
                state=state,
                decision=decision,
                handoff_reason=reason,
                trace=trace,
                created_at=at,
                updated_at=at,
            )
            session.add(row)
            rows[name] = row

        rows: dict[str, Any] = {}
        s0 = add_session(convs[0], timedelta(days=40), timedelta(hours=1), Closure.ESCALATED)
        s1 = add_session(convs[0], timedelta(days=2), timedelta(hours=1), Closure.RESOLVED_CONFIRMED)
        s2 = add_session(convs[1], timedelta(hours=20), timedelta(minutes=30), Closure.ESCALATED)
        s3 = add_session(convs[2], timedelta(days=3), timedelta(hours=24), Closure.ABANDONED)
        s4 = add_session(convs[3], timedelta(hours=1), None, None)
        await keep_open(session, convs[3])
        add_turn(
            "t0",
            convs[0],
            s0.started_at + timedelta(minutes=1),
            TurnDecision.REPLIED,
            _trace(TurnDecision.REPLIED, _call(9, 9, 9000)),
        )
        add_turn(
            "t1",
            convs[0],
            s1.started_at + timedelta(minutes=1),
            TurnDecision.REPLIED,
            _trace(TurnDecision.REPLIED, _call(100, 20, 300)),
        )
        add_turn(
            "t2",
            convs[0],
            s1.started_at + timedelta(minutes=10),
            TurnDecision.REPLIED,
            _trace(TurnDecision.REPLIED, intent={"id": "i1", "name": "hours", "action": "REPLY"}),
        )
        add_turn(
            "t3",
            convs[1],
            s2.started_at + timedelta(minutes=5),
            TurnDecision.HANDOFF,
            HANDOFF_TRACE,
            reason="HANDOFF_TOOL",
        )
        add_turn("t4", convs[3], s4.started_at + timedelta(minutes=1), None, {}, state=TurnState.RUNNING)
        add_turn(
            "t5",
            None,
            now - timedelta(minutes=30),
            TurnDecision.REPLIED,
            _trace(TurnDecision.REPLIED, _call(10, 2, 1000), sandbox=True),
        )
        await session.flush()
        ids.update({k: v.id for k, v in rows.items()})
        ids.update({"s1": s1.id, "s2": s2.id, "s3": s3.id, "s4": s4.id, "s0": s0.id})
        message = await session.scalar(select(Message.id).where(Message.conversation_id == convs[0]))
        members = [inbox.admin.id, inbox.agent.id, inbox.supervisor.id, inbox.other_agent.id]
        for user, rating, age in zip(members, (1, 1, 0, 1), (1, 2, 3, 40), strict=True):
            at = now - timedelta(days=age)
            session.add(
                BotFeedback(
                    organization_id=org,
                    message_id=message,
                    conversation_id=convs[0],
                    user_id=user,
                    rating=rating,
                    created_at=at,
                    updated_at=at,
                )
            )
    return History(inbox, ids)


@pytest.fixture
async def ours(client, runtime, factory, graph) -> History:
    return await _history(client, runtime, factory, graph)


@pytest.fixture
async def theirs(client, runtime, factory, graph) -> History:
    return await _history(client, runtime, factory, graph)


async def _get(client, path: str, headers: dict[str, str]) -> Any:
    r = await client.get(f"/bot-config/metrics/{path}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_quality_counts_each_figure_of_the_window(client, ours, theirs):
    body = await _get(client, "quality", ours.inbox.admin.headers)
    assert body["data"] == {
        "sessions": 4,
        "resolvedRate": 0.25,
        "escalationRate": 0.25,
        "abandonRate": 0.25,
        "avgTurns": 0.75,  # s1: 2, s2: 1, s3: 0, s4: 0 (its turn still running)
        "feedback": {"positive": 2, "negative": 1},
        "avgLatencyMs": 450,  # t1 300 and t3 600; t2 called no model, t5 is the sandbox's
    }
    body = await _get(client, "quality?days=1", ours.inbox.supervisor.headers)
    assert body["data"] == {
        "sessions": 2,
        "resolvedRate": 0.0,
        "escalationRate": 0.5,
        "abandonRate": 0.0,
        "avgTurns": 0.5,
        "feedback": {"positive": 0, "negative": 0},
        "avgLatencyMs": 600,
    }
    body = await _get(client, "quality?days=60", ours.inbox.admin.headers)
    assert body["data"]["sessions"] == 5 and body["data"]["escalationRate"] == 0.4
    assert body["data"]["feedback"] == {"positive": 3, "negative": 1}
    assert body["data"]["avgLatencyMs"] == 3300  # (300 + 600 + 9000) / 3


async def test_sessions_are_paged_newest_first_with_their_turns(client, ours, theirs):
    ids = ours.ids
    body = await _get(client, "sessions", ours.inbox.admin.headers)
    assert [(s["id"], s["turns"], s["closureType"]) for s in body["data"]] == [
        (ids["s4"], 0, None),
        (ids["s2"], 1, "ESCALATED"),
        (ids["s1"], 2, "RESOLVED_CONFIRMED"),
        (ids["s3"], 0, "ABANDONED"),
    ]
    assert body["meta"] == {"page": 1, "limit": 20, "total": 4, "totalPages": 1}
    assert body["data"][0]["endedAt"] is None and body["data"][1]["endedAt"] is not None
    body = await _get(client, "sessions?page=2&limit=3", ours.inbox.admin.headers)
    assert [s["id"] for s in body["data"]] == [ids["s3"]] and body["meta"]["totalPages"] == 2
    body = await _get(client, "sessions?closureType=ESCALATED&days=60", ours.inbox.supervisor.headers)
    assert [s["id"] for s in body["data"]] == [ids["s2"], ids["s0"]]


async def test_traces_summarise_the_window_and_are_cached_a_minute(client, runtime, ours, theirs):
    ids = ours.ids
    body = await _get(client, "traces", ours.inbox.admin.headers)
    data = body["data"]
    assert data["days"] == 7
    assert data["totals"] == {
        "traces": 4,
        "replied": 3,
        "handedOff": 1,
        "avgLatencyMs": 633,  # (300 + 600 + 1000) / 3
        "inputTokens": 100 + 110 + 10,
        "outputTokens": 20 + 11 + 2,
    }
    assert [t["id"] for t in data["traces"]] == [ids["t5"], ids["t3"], ids["t2"], ids["t1"]]
    sandbox, handoff, intent, _ = data["traces"]
    assert sandbox["sandbox"] is True and sandbox["conversationId"] is None
    assert handoff == {
        "id": ids["t3"],
        "conversationId": handoff["conversationId"],
        "createdAt": handoff["createdAt"],
        "decision": "HANDOFF",
        "handoffReason": "HANDOFF_TOOL",
        "sandbox": False,
        "latencyMs": 600,
        "llmCalls": 2,
        "inputTokens": 110,
        "outputTokens": 11,
        "retrievedChunks": 2,
        "tools": 1,
        "intent": None,
    }
    assert intent["intent"] == "hours" and intent["llmCalls"] == 0
    # a turn finished since: the cached figures until forced
    async with runtime.unit_of_work() as session:
        session.add(
            BotTurn(
                organization_id=ours.inbox.org.id,
                state=TurnState.DONE,
                decision=TurnDecision.REPLIED,
                trace=_trace(TurnDecision.REPLIED),
            )
        )
    assert (await _get(client, "traces", ours.inbox.admin.headers))["data"] == data
    forced = await _get(client, "traces?force=true", ours.inbox.admin.headers)
    assert forced["data"]["totals"]["traces"] == 5
    assert (await _get(client, "traces?days=1", ours.inbox.admin.headers))["data"]["totals"]["traces"] == 3


async def test_a_trace_reads_as_its_pipeline(client, ours, theirs):
    body = await _get(client, f"traces/{ours.ids['t3']}", ours.inbox.supervisor.headers)
    data = body["data"]
    assert [s["stage"] for s in data["pipeline"]] == ["RETRIEVAL", "LLM", "LLM", "TOOL", "HANDOFF"]
    assert data["pipeline"][0]["detail"]["chunks"][0] == HANDOFF_TRACE["retrieval"][0]
    assert data["pipeline"][2]["detail"] == HANDOFF_TRACE["llmCalls"][1]
    assert data["pipeline"][4]["detail"]["said"] == "reembolso"
    assert (data["decision"], data["latencyMs"], data["inputTokens"]) == ("HANDOFF", 600, 110)
    assert data["messageId"] == "t3" and data["notes"] == []


async def test_access_validation_and_another_organizations_trace(client, ours, theirs):
    admin = ours.inbox.admin.headers
    for path in ("quality", "sessions", "traces", f"traces/{ours.ids['t3']}"):
        r = await client.get(f"/bot-config/metrics/{path}")
        assert r.status_code == 401, path
        r = await client.get(f"/bot-config/metrics/{path}", headers=ours.inbox.agent.headers)
        assert r.status_code == 403 and error_code(r) == "FORBIDDEN", path
    for trace_id in (theirs.ids["t3"], theirs.ids["t5"], ours.ids["t4"], "not-a-trace", "x" * 65):
        r = await client.get(f"/bot-config/metrics/traces/{trace_id}", headers=admin)
        assert r.status_code in (400, 404) and "error" in r.json(), trace_id
        if trace_id != "x" * 65:
            assert r.status_code == 404, trace_id
    for path in (
        "quality?days=0",
        "quality?days=366",
        "sessions?closureType=OPEN",
        "sessions?limit=101",
        "sessions?page=0",
        "traces?days=31",
        "traces?days=0",
        "traces?force=maybe",
    ):
        r = await client.get(f"/bot-config/metrics/{path}", headers=admin)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", path
