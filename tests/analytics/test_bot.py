"""/analytics/bot over a known history of bot sessions and turns written through the models, in the
known history's range (7-9 March 2026, New York): every figure worked out by hand, sandbox, running
and out-of-range turns and the other organization's rows never counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cxinbox.models.bot_sessions import BotSession, BotSessionClosure
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.whatsapp import WhatsAppAccount
from tests.analytics.history import RANGE, History, Writer, at
from tests.fixtures.bot_sessions import keep_open

Closure = BotSessionClosure


def _calls(*calls: tuple[int, int, int]) -> dict[str, Any]:
    made = [{"inputTokens": i, "outputTokens": o, "latencyMs": ms} for i, o, ms in calls]
    return {"llmCalls": made, "latencyMs": sum(ms for _, _, ms in calls)}


@dataclass
class Bot:
    session: Any
    org: str
    account: str

    async def stretch(self, started: str, closure: Closure | None = None) -> str:
        """A conversation with one bot session started at ``started`` (an hour long unless open)."""
        conversation = await Writer(self.session, self.org, self.account).conversation(started)
        if closure is None:
            await keep_open(self.session, conversation)
        begin = at(started)
        self.session.add(
            BotSession(
                organization_id=self.org,
                conversation_id=conversation,
                started_at=begin,
                ended_at=None if closure is None else begin + timedelta(hours=1),
                closure_type=closure,
            )
        )
        return conversation

    def turn(
        self,
        conversation: str | None,
        when: str,
        decision: TurnDecision | None,
        trace: dict[str, Any],
        reason: str | None = None,
        state: TurnState = TurnState.DONE,
    ) -> None:
        self.session.add(
            BotTurn(
                organization_id=self.org,
                conversation_id=conversation,
                message_id=None if conversation is None else when,
                state=state,
                decision=decision,
                handoff_reason=reason,
                trace=trace,
                created_at=at(when),
                updated_at=at(when),
            )
        )


async def _bot(session, organization_id: str) -> Bot:
    account = await session.scalar(
        select(WhatsAppAccount.id).where(WhatsAppAccount.organization_id == organization_id)
    )
    return Bot(session, organization_id, account)


@pytest.fixture(scope="module")
async def bot_history(runtime, history: History) -> History:
    async with runtime.unit_of_work() as session:
        b = await _bot(session, history.org.id)
        c1 = await b.stretch("2026-03-07T10:00:00", Closure.RESOLVED_CONFIRMED)
        c2 = await b.stretch("2026-03-08T10:00:00", Closure.ESCALATED)
        c3 = await b.stretch("2026-03-09T10:00:00", Closure.ESCALATED)
        c4 = await b.stretch("2026-03-09T20:00:00", Closure.ABANDONED)
        c5 = await b.stretch("2026-03-09T23:00:00")
        early = await b.stretch("2026-03-06T10:00:00", Closure.ESCALATED)  # before the range
        await b.stretch("2026-03-10T04:00:00", Closure.ESCALATED)  # at `to`: out
        b.turn(c1, "2026-03-07T10:01:00", TurnDecision.REPLIED, _calls((100, 10, 300)))
        b.turn(c1, "2026-03-07T10:05:00", TurnDecision.REPLIED, {"intent": {"name": "hours"}, "llmCalls": []})
        b.turn(
            c2,
            "2026-03-08T10:01:00",
            TurnDecision.HANDOFF,
            _calls((50, 5, 500), (60, 6, 700)),
            "HANDOFF_TOOL",
        )
        b.turn(c3, "2026-03-09T10:01:00", TurnDecision.HANDOFF, {"llmCalls": []}, "CUSTOMER_REQUEST")
        b.turn(c4, "2026-03-09T20:01:00", TurnDecision.REPLIED, _calls((10, 1, 100)))
        b.turn(c5, "2026-03-09T23:01:00", TurnDecision.HANDOFF, {"errors": [{"reason": "auth"}]}, "LLM_AUTH")
        b.turn(c5, "2026-03-09T23:05:00", None, {}, state=TurnState.RUNNING)
        b.turn(None, "2026-03-08T12:00:00", TurnDecision.REPLIED, _calls((999, 99, 5000)))  # sandbox
        b.turn(early, "2026-03-06T10:01:00", TurnDecision.REPLIED, _calls((7, 7, 7000)))
        t = await _bot(session, history.other.id)
        theirs = await t.stretch("2026-03-08T15:00:00", Closure.RESOLVED_CONFIRMED)
        t.turn(theirs, "2026-03-08T15:01:00", TurnDecision.REPLIED, _calls((1000, 100, 2000)))
    return history


async def _get(client, member) -> dict[str, Any]:
    r = await client.get("/analytics/bot", params=RANGE, headers=member.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_every_bot_figure_of_the_range(client, bot_history):
    data = await _get(client, bot_history.org.admin)
    assert data["range"]["timezone"] == "America/New_York"
    del data["range"]
    assert data == {
        "sessions": {"started": 5, "resolved": 1, "escalated": 2, "abandoned": 1, "open": 1},
        "resolutionRate": 0.2,
        "escalationRate": 0.4,
        "abandonRate": 0.2,
        "turns": 6,
        "replies": 3,
        "handoffReasons": [
            {"key": "CUSTOMER_REQUEST", "count": 1},
            {"key": "HANDOFF_TOOL", "count": 1},
            {"key": "LLM_AUTH", "count": 1},
        ],
        "tokens": {"input": 220, "output": 22},
        "latency": {"count": 3, "p50Ms": 300.0, "meanMs": 533.333},  # 100, 300 and 1200 ms
    }
    seen_by_supervisor = await _get(client, bot_history.supervisor)
    assert {k: v for k, v in seen_by_supervisor.items() if k != "range"} == data


async def test_the_other_organization_counts_only_its_own(client, bot_history):
    data = await _get(client, bot_history.other.admin)
    assert data["sessions"] == {"started": 1, "resolved": 1, "escalated": 0, "abandoned": 0, "open": 0}
    assert (data["turns"], data["replies"], data["handoffReasons"]) == (1, 1, [])
    assert data["tokens"] == {"input": 1000, "output": 100}
    assert data["latency"] == {"count": 1, "p50Ms": 2000.0, "meanMs": 2000.0}


async def test_an_empty_range_has_no_rates(client, bot_history):
    r = await client.get(
        "/analytics/bot",
        params={"from": "2025-01-01T00:00:00", "to": "2025-01-05T00:00:00"},
        headers=bot_history.org.admin.headers,
    )
    data = r.json()["data"]
    assert data["sessions"]["started"] == 0 and data["resolutionRate"] is None
    assert data["latency"] == {"count": 0, "p50Ms": None, "meanMs": None}
    assert data["tokens"] == {"input": 0, "output": 0} and data["handoffReasons"] == []
