"""Bot sessions: opened whenever a conversation enters BOT_HANDLING (whichever code moves it, created
with the bot too), closed ESCALATED, RESOLVED_CONFIRMED or ABANDONED; and return-to-bot, which
opens one with the agent's handoff summary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cxinbox.bot import sessions
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import registered_job
from cxinbox.core.scheduler import _PERIODIC
from cxinbox.models.bot_sessions import BotSession
from cxinbox.models.inbox import Conversation, ConversationStatus
from tests.bot.conftest import make_config
from tests.fixtures.inbox import make_inbox, seed_conversations, set_fields
from tests.fixtures.people import error_code


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


async def _sessions(runtime, conversation_id) -> list[BotSession]:
    async with runtime.sessionmaker() as session:
        stmt = select(BotSession).where(BotSession.conversation_id == conversation_id)
        return list(await session.scalars(stmt.order_by(BotSession.started_at, BotSession.created_at)))


async def _with_bot(inbox, client, llm, runtime) -> tuple[str, str]:
    """A conversation of the team's queue the bot has (moved in place, as the bot's entry does), and
    the active config."""
    config, _key = await make_config(client, inbox.admin.headers, llm)
    conversation = await inbox.in_team("hola")
    await set_fields(runtime, conversation, status=ConversationStatus.BOT_HANDLING, last_inbound_at=utcnow())
    return conversation, config["id"]


async def test_entering_bot_handling_opens_one_session_with_the_active_config(inbox, client, llm, runtime):
    conversation, config_id = await _with_bot(inbox, client, llm, runtime)
    [opened] = await _sessions(runtime, conversation)
    assert opened.organization_id == inbox.org.id
    assert opened.bot_config_id == config_id
    assert opened.ended_at is None and opened.closure_type is None
    # staying in BOT_HANDLING opens nothing more
    await set_fields(runtime, conversation, status=ConversationStatus.BOT_HANDLING, priority="HIGH")
    assert len(await _sessions(runtime, conversation)) == 1


async def test_a_conversation_created_with_the_bot_has_a_session(inbox, runtime):
    [created] = await seed_conversations(
        runtime, inbox.org.id, inbox.account.id, 1, status=ConversationStatus.BOT_HANDLING
    )
    [opened] = await _sessions(runtime, created)
    assert opened.bot_config_id is None  # no active config: recorded as none
    [other] = await seed_conversations(runtime, inbox.org.id, inbox.account.id, 1)
    assert await _sessions(runtime, other) == []


async def test_takeover_escalates_and_resolving_with_the_bot_confirms(inbox, client, llm, runtime):
    taken, _ = await _with_bot(inbox, client, llm, runtime)
    r = await client.post(f"/conversations/{taken}/takeover", headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    [escalated] = await _sessions(runtime, taken)
    assert escalated.closure_type == "ESCALATED" and escalated.ended_at is not None

    queued, _ = await _with_bot(inbox, client, llm, runtime)
    r = await client.patch(f"/conversations/{queued}", json={"status": "OPEN"}, headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    assert [s.closure_type for s in await _sessions(runtime, queued)] == ["ESCALATED"]

    resolved, _ = await _with_bot(inbox, client, llm, runtime)
    r = await client.post(f"/conversations/{resolved}/resolve", headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    [confirmed] = await _sessions(runtime, resolved)
    assert confirmed.closure_type == "RESOLVED_CONFIRMED"
    assert confirmed.ended_at >= confirmed.started_at


async def test_quiet_sessions_are_abandoned_and_a_returning_customer_opens_a_new_one(
    inbox, client, llm, runtime
):
    quiet, _ = await _with_bot(inbox, client, llm, runtime)
    talking, _ = await _with_bot(inbox, client, llm, runtime)
    now = utcnow()
    long_ago = now - timedelta(hours=25)
    async with runtime.unit_of_work() as session:
        for conversation_id in (quiet, talking):
            opened = await session.scalar(
                select(BotSession).where(BotSession.conversation_id == conversation_id)
            )
            assert opened is not None
            opened.started_at = long_ago
        (await session.get_one(Conversation, quiet)).last_inbound_at = long_ago
        (await session.get_one(Conversation, talking)).last_inbound_at = now - timedelta(hours=1)
    # the check spans every organization: other tests' sessions may be closed too, so the
    # assertions read these two sessions, not the count
    async with runtime.unit_of_work() as session:
        assert await sessions.abandon_quiet(session, now, 24) >= 1
    [abandoned] = await _sessions(runtime, quiet)
    assert abandoned.closure_type == "ABANDONED" and abandoned.ended_at is not None
    assert (await _sessions(runtime, talking))[0].ended_at is None
    # with a shorter setting, the other one is quiet too
    async with runtime.unit_of_work() as session:
        assert await sessions.abandon_quiet(session, now, 0.5) >= 1
    [closed_later] = await _sessions(runtime, talking)
    assert closed_later.closure_type == "ABANDONED"
    # a closed session is never closed again
    async with runtime.unit_of_work() as session:
        await sessions.abandon_quiet(session, now + timedelta(hours=1), 0.5)
    assert [s.ended_at for s in await _sessions(runtime, quiet)] == [abandoned.ended_at]
    async with runtime.unit_of_work() as session:
        again = await sessions.current(session, await session.get_one(Conversation, quiet))
        assert again is not None and again.ended_at is None
    assert [s.closure_type for s in await _sessions(runtime, quiet)] == ["ABANDONED", None]


async def test_the_abandon_check_is_a_periodic_job_reading_its_setting(
    inbox, client, llm, runtime, monkeypatch
):
    spec = registered_job("bot.abandon_sessions")
    assert spec is not None and "bot.abandon_sessions" in _PERIODIC
    quiet, _ = await _with_bot(inbox, client, llm, runtime)
    async with runtime.unit_of_work() as session:
        opened = await session.scalar(select(BotSession).where(BotSession.conversation_id == quiet))
        assert opened is not None
        opened.started_at = utcnow() - timedelta(hours=3)
        (await session.get_one(Conversation, quiet)).last_inbound_at = utcnow() - timedelta(hours=3)
    monkeypatch.setattr(runtime.settings, "bot_session_abandon_hours", 2.0)
    async with runtime.unit_of_work() as session:
        await spec.fn(runtime, session)
    assert [s.closure_type for s in await _sessions(runtime, quiet)] == ["ABANDONED"]


async def test_return_to_bot_opens_a_session_with_the_agents_summary(inbox, client, llm, runtime):
    conversation, config_id = await _with_bot(inbox, client, llm, runtime)
    await client.post(f"/conversations/{conversation}/takeover", headers=inbox.agent.headers)
    r = await client.post(
        f"/conversations/{conversation}/return-to-bot",
        json={"handoffSummary": "  Quiere cambiar la talla a M; ya tiene número de pedido.  "},
        headers=inbox.agent.headers,
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["status"] == "BOT_HANDLING" and data["assignedTo"] is None
    escalated, returned = await _sessions(runtime, conversation)
    assert escalated.closure_type == "ESCALATED"
    assert returned.ended_at is None and returned.bot_config_id == config_id
    assert returned.returned_by_id == inbox.agent.id
    async with runtime.sessionmaker() as session:
        found = await session.get_one(Conversation, conversation)
        summary = await sessions.handoff_summary_of(session, found)
    assert summary == "Quiere cambiar la talla a M; ya tiene número de pedido."
    # again while the bot has it: the same session, its summary replaced
    r = await client.post(
        f"/conversations/{conversation}/return-to-bot",
        json={"handoffSummary": "Talla M, color negro"},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 200, r.text
    escalated, returned = await _sessions(runtime, conversation)
    assert returned.handoff_summary == "Talla M, color negro" and returned.returned_by_id == inbox.admin.id
    detail = (await client.get(f"/conversations/{conversation}", headers=inbox.admin.headers)).json()["data"]
    moves = [(e["kind"], e["to"]) for e in detail["timeline"] if e["reason"] == "return_to_bot"]
    assert ("STATUS", "BOT_HANDLING") in moves and ("ASSIGNEE", None) in moves
    # the summary lasts as long as the session
    await client.post(f"/conversations/{conversation}/resolve", headers=inbox.admin.headers)
    async with runtime.sessionmaker() as session:
        found = await session.get_one(Conversation, conversation)
        assert await sessions.handoff_summary_of(session, found) is None


async def test_return_to_bot_without_a_summary_and_from_the_queue(inbox, client, llm, runtime):
    await make_config(client, inbox.admin.headers, llm)
    conversation = await inbox.in_team()
    r = await client.post(f"/conversations/{conversation}/return-to-bot", headers=inbox.supervisor.headers)
    assert r.status_code == 200, r.text
    [opened] = await _sessions(runtime, conversation)
    assert opened.handoff_summary is None and opened.returned_by_id == inbox.supervisor.id


async def test_patching_a_conversation_to_the_bot_needs_an_active_bot(inbox, client, llm, runtime):
    conversation = await inbox.in_team()
    url = f"/conversations/{conversation}"
    r = await client.patch(url, json={"status": "BOT_HANDLING"}, headers=inbox.admin.headers)
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    detail = (await client.get(url, headers=inbox.admin.headers)).json()["data"]
    assert detail["status"] == "OPEN" and await _sessions(runtime, conversation) == []
    await make_config(client, inbox.admin.headers, llm)
    r = await client.patch(url, json={"status": "BOT_HANDLING"}, headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["status"] == "BOT_HANDLING", r.text
    [opened] = await _sessions(runtime, conversation)
    assert opened.ended_at is None


async def test_return_to_bot_refusals(inbox, client, llm, runtime, factory):
    conversation = await inbox.in_team()
    url = f"/conversations/{conversation}/return-to-bot"
    # no active bot
    r = await client.post(url, json={"handoffSummary": "x"}, headers=inbox.admin.headers)
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    await make_config(client, inbox.admin.headers, llm)
    # no token
    assert (await client.post(url, json={})).status_code == 401
    # validation
    r = await client.post(url, json={"handoffSummary": "x" * 4001}, headers=inbox.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    r = await client.post(url, json={"handoffSummary": 12}, headers=inbox.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    # the platform's super admin is no member of the organization
    platform = await factory.super_admin()
    r = await client.post(url, headers=platform.headers)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    # an agent does not see another agent's conversation
    await client.post(f"/conversations/{conversation}/takeover", headers=inbox.other_agent.headers)
    r = await client.post(url, headers=inbox.agent.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    # another organization's admin, with a bot of its own
    other = await factory.org()
    await make_config(client, other.admin.headers, llm)
    r = await client.post(url, json={"handoffSummary": "mine now"}, headers=other.admin.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    assert [s.handoff_summary for s in await _sessions(runtime, conversation)] == []
    # closed: the status machine refuses
    await client.post(f"/conversations/{conversation}/resolve", headers=inbox.admin.headers)
    r = await client.post(url, headers=inbox.admin.headers)
    assert r.status_code == 409 and error_code(r) == "INVALID_STATUS_TRANSITION"
