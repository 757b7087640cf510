"""Idle agents (settings, ``/run``, the minute's job) and follow-up reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cxinbox.core.clock import utcnow
from cxinbox.models.audit import AuditEntry
from cxinbox.models.identity import Presence, User
from cxinbox.routing.follow_ups import announce_due
from tests.fixtures.events import stored_events
from tests.fixtures.inbox import set_fields
from tests.routing.test_auto_assign import set_presence


async def put_idle(client, routing, body: dict) -> dict:
    r = await client.put("/routing-rules/idle-agent", json=body, headers=routing.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_settings_default_and_change_only_what_is_sent(client, routing):
    r = await client.get("/routing-rules/idle-agent", headers=routing.inbox.agent.headers)
    assert r.json()["data"] == {
        "isEnabled": False,
        "idleMinutes": 15,
        "action": "SET_AWAY",
        "onlyDuringBusinessHours": False,
    }
    data = await put_idle(client, routing, {"isEnabled": True, "action": "BOTH"})
    assert (data["isEnabled"], data["idleMinutes"], data["action"]) == (True, 15, "BOTH")
    assert (await put_idle(client, routing, {"idleMinutes": 30}))["action"] == "BOTH"


@pytest.mark.parametrize(
    "body", [{"idleMinutes": 0}, {"idleMinutes": 100000}, {"action": "SLEEP"}, {"isEnabled": None}]
)
async def test_bad_settings_are_400(client, routing, body):
    r = await client.put("/routing-rules/idle-agent", json=body, headers=routing.admin.headers)
    assert r.status_code == 400, r.text


async def _held_waiting(client, routing, runtime, minutes: int) -> str:
    """A conversation assigned to the inbox's agent whose customer has waited ``minutes``."""
    inbox = routing.inbox
    conversation_id = await inbox.customer_writes("help?")
    r = await client.post(
        f"/conversations/{conversation_id}/assign",
        json={"userId": inbox.agent.id},
        headers=routing.admin.headers,
    )
    assert r.status_code == 200
    await set_fields(
        runtime, conversation_id, needs_action=True, last_inbound_at=utcnow() - timedelta(minutes=minutes)
    )
    return conversation_id


async def test_run_sets_idle_agents_away_and_releases_their_waiting_conversations(client, routing, runtime):
    inbox = routing.inbox
    await set_presence(runtime, inbox.agent.id, inbox.other_agent.id)
    late = await _held_waiting(client, routing, runtime, minutes=20)
    await put_idle(client, routing, {"action": "BOTH"})
    r = await client.post("/routing-rules/idle-agent/run", headers=routing.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"checked": 2, "idleAgents": [inbox.agent.id], "released": 1}
    r = await client.get(f"/conversations/{late}", headers=routing.admin.headers)
    assert (r.json()["data"]["assignedTo"], r.json()["data"]["status"]) == (None, "OPEN")
    async with runtime.sessionmaker() as session:
        assert (await session.get_one(User, inbox.agent.id)).status is Presence.AWAY
        audit = await session.scalars(
            select(AuditEntry).where(
                AuditEntry.organization_id == inbox.org.id, AuditEntry.action == "routing.idle_agent"
            )
        )
        assert [a.target_id for a in audit] == [inbox.agent.id]
    types = [e.type for e in await stored_events(runtime, inbox.org.id)]
    assert "user.updated" in types


async def test_an_agent_answering_in_time_is_not_idle(client, routing, runtime):
    inbox = routing.inbox
    await set_presence(runtime, inbox.agent.id)
    await _held_waiting(client, routing, runtime, minutes=5)
    await put_idle(client, routing, {"action": "RELEASE", "idleMinutes": 10})
    r = await client.post("/routing-rules/idle-agent/run", headers=routing.admin.headers)
    assert r.json()["data"] == {"checked": 1, "idleAgents": [], "released": 0}


async def test_only_during_business_hours(client, routing, runtime):
    await set_presence(runtime, routing.inbox.agent.id)
    await _held_waiting(client, routing, runtime, minutes=60)
    await client.put(
        "/routing-rules/business-hours",
        json={"timezone": "UTC", "isEnabled": True},
        headers=routing.admin.headers,
    )
    await put_idle(client, routing, {"onlyDuringBusinessHours": True})
    r = await client.post("/routing-rules/idle-agent/run", headers=routing.admin.headers)
    assert r.json()["data"]["idleAgents"] == []


async def test_a_due_follow_up_is_announced_once(client, routing, runtime):
    inbox = routing.inbox
    conversation_id = await inbox.customer_writes("call me tomorrow")
    due = (utcnow() + timedelta(minutes=5)).isoformat()
    r = await client.post(
        f"/conversations/{conversation_id}/follow-up",
        json={"note": "call", "dueAt": due},
        headers=routing.admin.headers,
    )
    assert r.status_code == 200, r.text

    async def announced() -> list:
        return [
            e
            for e in await stored_events(runtime, inbox.org.id)
            if e.type == "conversation.follow_up_due" and e.data["id"] == conversation_id
        ]

    async with runtime.unit_of_work() as session:
        await announce_due(session)
    assert await announced() == []  # not due yet
    await set_fields(runtime, conversation_id, follow_up_at=utcnow() - timedelta(seconds=1))
    for _ in range(2):
        async with runtime.unit_of_work() as session:
            await announce_due(session)
    events = await announced()
    assert len(events) == 1
    assert events[0].audience["conversationId"] == conversation_id
