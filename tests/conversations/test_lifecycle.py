"""Moves that do not come from the inbox's own endpoints: a customer writing back to a waiting
conversation, and an agent leaving the organization."""

from __future__ import annotations

from sqlalchemy import select

from cxinbox.models.event_log import EventRecord
from cxinbox.models.inbox import ConversationStatus
from tests.fixtures.inbox import set_fields
from tests.fixtures.people import events_of
from tests.fixtures.wait import eventually


async def _detail(client, inbox, conversation_id):
    return (await client.get(f"/conversations/{conversation_id}", headers=inbox.admin.headers)).json()["data"]


async def test_a_customer_message_reopens_a_waiting_conversation_for_its_agent(inbox, client):
    conversation = await inbox.in_team("where is my order?")
    await client.post(f"/conversations/{conversation}/takeover", headers=inbox.agent.headers)
    r = await client.patch(
        f"/conversations/{conversation}", json={"status": "WAITING_FOR_CUSTOMER"}, headers=inbox.agent.headers
    )
    assert r.status_code == 200
    wa_id = r.json()["data"]["contact"]["waId"]
    await inbox.customer_writes("here is the number", wa_id=wa_id)
    data = await _detail(client, inbox, conversation)
    assert data["status"] == "HUMAN_HANDLING" and data["assignedToId"] == inbox.agent.id
    last = data["timeline"][-1]
    assert (last["kind"], last["from"], last["to"], last["reason"]) == (
        "STATUS",
        "WAITING_FOR_CUSTOMER",
        "HUMAN_HANDLING",
        "customer_message",
    )
    assert last["actor"] == {"type": "CUSTOMER", "id": None}
    updates = [
        e
        for e in await events_of(inbox.runtime, inbox.org.id, "conversation.updated")
        if e["id"] == conversation
    ]
    assert updates[-1]["status"] == "HUMAN_HANDLING"


async def test_a_customer_message_puts_an_unassigned_waiting_conversation_back_in_the_queue(inbox, client):
    conversation = await inbox.customer_writes("hello")
    await set_fields(inbox.runtime, conversation, status=ConversationStatus.WAITING_FOR_CUSTOMER)
    wa_id = (await _detail(client, inbox, conversation))["contact"]["waId"]
    await inbox.customer_writes("anyone?", wa_id=wa_id)
    data = await _detail(client, inbox, conversation)
    assert data["status"] == "OPEN"
    assert [(e["from"], e["to"]) for e in data["timeline"]] == [("WAITING_FOR_CUSTOMER", "OPEN")]


async def test_a_customer_message_leaves_other_statuses_alone(inbox, client):
    conversation = await inbox.customer_writes("hello")
    await set_fields(
        inbox.runtime, conversation, status=ConversationStatus.HUMAN_HANDLING, assigned_to_id=inbox.agent.id
    )
    wa_id = (await _detail(client, inbox, conversation))["contact"]["waId"]
    await inbox.customer_writes("still there?", wa_id=wa_id)
    data = await _detail(client, inbox, conversation)
    assert (data["status"], data["timeline"], data["unreadCount"]) == ("HUMAN_HANDLING", [], 2)


async def test_a_customer_writing_to_the_bot_with_no_bot_active_is_handed_to_people(inbox, client):
    conversation = await inbox.customer_writes("hello")
    await set_fields(inbox.runtime, conversation, status=ConversationStatus.BOT_HANDLING)
    wa_id = (await _detail(client, inbox, conversation))["contact"]["waId"]
    await inbox.customer_writes("still there?", wa_id=wa_id)

    async def handed_off() -> bool:
        return (await _detail(client, inbox, conversation))["status"] == "OPEN"

    await eventually(handed_off, "the conversation handed to people")
    timeline = (await _detail(client, inbox, conversation))["timeline"]
    assert [(e["from"], e["to"], e["reason"]) for e in timeline if e["kind"] == "STATUS"] == [
        ("BOT_HANDLING", "OPEN", "NO_BOT")
    ]


async def test_deleting_an_agent_releases_their_open_conversations(inbox, client):
    working = await inbox.in_team("working")
    waiting = await inbox.in_team("waiting")
    closed = await inbox.in_team("closed")
    for conversation in (working, waiting, closed):
        await client.post(f"/conversations/{conversation}/takeover", headers=inbox.agent.headers)
    await client.patch(
        f"/conversations/{waiting}", json={"status": "WAITING_FOR_CUSTOMER"}, headers=inbox.agent.headers
    )
    await client.post(f"/conversations/{closed}/resolve", headers=inbox.agent.headers)

    r = await client.delete(f"/users/{inbox.agent.id}", headers=inbox.admin.headers)
    assert r.status_code == 200

    working_now, waiting_now, closed_now = [
        await _detail(client, inbox, c) for c in (working, waiting, closed)
    ]
    assert (working_now["status"], working_now["assignedToId"]) == ("OPEN", None)
    assert (waiting_now["status"], waiting_now["assignedToId"]) == ("WAITING_FOR_CUSTOMER", None)
    assert (closed_now["status"], closed_now["assignedToId"]) == ("CLOSED", inbox.agent.id)  # history kept
    released = [e for e in working_now["timeline"] if e["reason"] == "user_left"]
    assert [(e["kind"], e["from"], e["to"]) for e in released] == [
        ("STATUS", "HUMAN_HANDLING", "OPEN"),
        ("ASSIGNEE", inbox.agent.id, None),
    ]
    assert released[0]["actor"] == {"type": "SYSTEM", "id": None}
    # the team sees them again in its queue, and the event tells the one who left as well
    r = await client.get("/conversations", headers=inbox.other_agent.headers)
    assert {working, waiting} <= {c["id"] for c in r.json()["data"]}
    async with inbox.runtime.sessionmaker() as session:
        audience = await session.scalar(
            select(EventRecord.audience)
            .where(EventRecord.organization_id == inbox.org.id, EventRecord.type == "conversation.updated")
            .order_by(EventRecord.seq.desc())
            .limit(1)
        )
    assert audience["previousAssignedToId"] == inbox.agent.id and audience["assignedToId"] is None


async def test_deactivating_an_agent_releases_their_conversations(inbox, client):
    conversation = await inbox.in_team()
    await client.post(f"/conversations/{conversation}/takeover", headers=inbox.agent.headers)
    r = await client.patch(f"/users/{inbox.agent.id}", json={"isActive": False}, headers=inbox.admin.headers)
    assert r.status_code == 200
    data = await _detail(client, inbox, conversation)
    assert (data["status"], data["assignedToId"]) == ("OPEN", None)
