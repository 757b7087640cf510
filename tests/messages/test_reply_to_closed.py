"""A reply to a CLOSED conversation reopens it, so the customer's answer lands in the same thread."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from cxinbox.models.identity import Role
from cxinbox.models.inbox import Conversation, Message
from tests.fixtures.inbox import text_message
from tests.fixtures.people import error_code, events_of
from tests.fixtures.sending import make_thread, send_text
from tests.fixtures.whatsapp import deliver


async def closed(client, thread) -> None:
    r = await client.post(f"/conversations/{thread.id}/resolve", headers=thread.org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["status"] == "CLOSED", r.text


async def detail(client, thread) -> dict:
    r = await client.get(f"/conversations/{thread.id}", headers=thread.org.admin.headers)
    return r.json()["data"]


async def conversations_of_contact(runtime, thread) -> list[str]:
    async with runtime.sessionmaker() as session:
        return list(
            await session.scalars(select(Conversation.id).where(Conversation.contact_id == thread.contact.id))
        )


async def test_a_reply_reopens_the_conversation_and_the_answer_lands_in_it(client, runtime, thread):
    await closed(client, thread)
    r = await send_text(client, thread, "Sorry, one more thing about your order")
    assert r.status_code == 201, r.text
    data = await detail(client, thread)
    assert (data["status"], data["closedAt"]) == ("OPEN", None)
    last = data["timeline"][-1]
    assert (last["kind"], last["from"], last["to"], last["reason"]) == ("STATUS", "CLOSED", "OPEN", "reply")
    assert last["actor"] == {"type": "USER", "id": thread.org.admin.id}
    updates = [
        e for e in await events_of(runtime, thread.org.id, "conversation.updated") if e["id"] == thread.id
    ]
    assert updates[-1]["status"] == "OPEN"

    await deliver(
        client, runtime, text_message(thread.number, thread.contact.wa_id, "Dana Customer", "Thanks!")
    )
    assert await conversations_of_contact(runtime, thread) == [thread.id]
    async with runtime.sessionmaker() as session:
        texts = await session.scalars(
            select(Message.text).where(Message.conversation_id == thread.id).order_by(Message.created_at)
        )
        assert "Thanks!" in list(texts)


async def test_an_assigned_conversation_goes_back_to_its_agent(client, runtime, graph, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    thread = await make_thread(runtime, graph, org, assigned_to_id=agent.id)
    await closed(client, thread)
    r = await client.post(
        f"/conversations/{thread.id}/messages", json={"text": "Back"}, headers=agent.headers
    )
    assert r.status_code == 201, r.text
    data = await detail(client, thread)
    assert (data["status"], data["assignedToId"]) == ("HUMAN_HANDLING", agent.id)


async def test_outside_the_window_the_reply_is_refused_and_it_stays_closed(client, runtime, graph, factory):
    thread = await make_thread(runtime, graph, await factory.org(), last_inbound=timedelta(days=2))
    await closed(client, thread)
    r = await send_text(client, thread, "Hello again")
    assert r.status_code == 409 and error_code(r) == "WINDOW_CLOSED"
    data = await detail(client, thread)
    assert data["status"] == "CLOSED" and data["closedAt"] is not None
    assert [e["reason"] for e in data["timeline"]] == ["resolve"]
    async with runtime.sessionmaker() as session:
        count = await session.scalar(select(func.count()).where(Message.conversation_id == thread.id))
    assert count == 1  # the customer's message only


async def test_once_the_customer_opened_a_new_conversation_the_old_one_stays_closed(client, runtime, thread):
    await closed(client, thread)
    await deliver(
        client, runtime, text_message(thread.number, thread.contact.wa_id, "Dana Customer", "Hi again")
    )
    assert len(await conversations_of_contact(runtime, thread)) == 2
    r = await send_text(client, thread, "Replying to the old thread")
    assert r.status_code == 409 and error_code(r) == "NEWER_CONVERSATION_OPEN", r.text
    data = await detail(client, thread)
    assert data["status"] == "CLOSED" and [e["reason"] for e in data["timeline"]] == ["resolve"]
