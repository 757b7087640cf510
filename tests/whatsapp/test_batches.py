"""Stored webhooks processed together in one transaction (what the drain does under load)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from cxinbox.models.inbox import Conversation, ConversationStatus, MessageStatus
from cxinbox.models.whatsapp import WebhookEvent, WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.processor import process_events
from cxinbox.whatsapp.inbound.threads import Sender, resolve_threads
from tests.fixtures.events import stored_events
from tests.fixtures.statements import counting
from tests.fixtures.whatsapp import (
    agent_messages,
    connect_number,
    contacts_of,
    conversations_of,
    messages_of,
    new_wamid,
    outbound_message,
    reload,
    status_body,
    status_events,
)

ANN, BOB = "15550001001", "15550001002"


@pytest.fixture
async def number(runtime, factory, graph):
    org = await factory.org()
    return org, await connect_number(runtime, graph, org.id)


def _body(account: WhatsAppAccount, wa_id: str, message: dict[str, Any]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": account.phone_number_id},
        "contacts": [{"profile": {"name": f"Customer {wa_id[-4:]}"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, **message}],
    }
    entry = {"id": account.waba_id, "changes": [{"value": value, "field": "messages"}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def _text(wamid: str, body: str, at: int) -> dict[str, Any]:
    return {"id": wamid, "timestamp": str(at), "type": "text", "text": {"body": body}}


def _wamid() -> str:
    return f"wamid.batch.{uuid.uuid4().hex}"


async def _process_together(runtime: Runtime, account: WhatsAppAccount, bodies: list[bytes]) -> None:
    """Store ``bodies`` as events and process them in one batch, in this order."""
    async with runtime.unit_of_work() as session:
        events = [WebhookEvent(body=b, phone_number_id=account.phone_number_id) for b in bodies]
        session.add_all(events)
    async with runtime.unit_of_work() as session:
        rows = await session.scalars(select(WebhookEvent).where(WebhookEvent.id.in_([e.id for e in events])))
        by_id = {e.id: e for e in rows}
        await process_events(session, runtime, [by_id[e.id] for e in events])
    async with runtime.sessionmaker() as session:
        left = await session.scalars(
            select(WebhookEvent.id).where(
                WebhookEvent.id.in_(list(by_id)), WebhookEvent.processed_at.is_(None)
            )
        )
        assert list(left) == []


async def test_a_batch_stores_each_message_once_and_publishes_each_conversation_once(runtime, number):
    org, account = number
    first, older, bobs = _wamid(), _wamid(), _wamid()
    await _process_together(
        runtime,
        account,
        [
            _body(account, ANN, _text(first, "Where is my order?", 1_700_000_100)),
            _body(account, ANN, _text(first, "Where is my order?", 1_700_000_100)),  # delivered twice
            _body(account, BOB, _text(bobs, "Hello", 1_700_000_110)),
            _body(
                account,
                ANN,
                {
                    "id": _wamid(),
                    "timestamp": "1700000120",
                    "type": "reaction",
                    "reaction": {"message_id": first, "emoji": "👍"},
                },
            ),
            _body(account, ANN, _text(older, "sent earlier, arrived later", 1_700_000_050)),
        ],
    )
    messages = await messages_of(runtime, org.id)
    assert sorted(m.wa_message_id for m in messages) == sorted([first, older, bobs])
    by_wamid = {m.wa_message_id: m for m in messages}
    assert by_wamid[first].reaction is not None and by_wamid[first].reaction["emoji"] == "👍"
    assert {c.wa_id for c in await contacts_of(runtime, org.id)} == {ANN, BOB}
    conversations = {c.id: c for c in await conversations_of(runtime, org.id)}
    anns = conversations[by_wamid[first].conversation_id]
    assert by_wamid[older].conversation_id == anns.id
    assert (anns.unread_count, anns.needs_action) == (2, True)
    assert anns.last_message_preview == "Where is my order?"  # the newest by provider time
    assert anns.last_message_at == by_wamid[first].ordered_at == anns.last_inbound_at
    events = [
        (e.type, e.data.get("waMessageId") or e.data["id"]) for e in await stored_events(runtime, org.id)
    ]
    bobs_conversation = by_wamid[bobs].conversation_id
    assert events == [
        ("conversation.created", anns.id),
        ("message.created", first),
        ("message.created", older),
        ("conversation.created", bobs_conversation),
        ("message.created", bobs),
        ("message.updated", first),
    ]
    [created] = [e for e in await stored_events(runtime, org.id) if e.data.get("id") == anns.id]
    assert created.data["unreadCount"] == 2  # the conversation as it is after the batch


async def test_a_batch_adds_to_the_open_conversation_it_finds(runtime, number):
    org, account = number
    await _process_together(runtime, account, [_body(account, ANN, _text(_wamid(), "one", 1_700_000_000))])
    [conversation] = await conversations_of(runtime, org.id)
    await _process_together(
        runtime,
        account,
        [
            _body(account, ANN, _text(_wamid(), "two", 1_700_000_010)),
            _body(account, ANN, _text(_wamid(), "three", 1_700_000_020)),
        ],
    )
    [after] = await conversations_of(runtime, org.id)
    assert after.id == conversation.id
    assert (after.unread_count, after.last_message_preview) == (3, "three")
    types = [e.type for e in await stored_events(runtime, org.id)]
    assert types[2:] == ["conversation.updated", "message.created", "message.created"]


async def test_the_statuses_of_a_batch_are_folded_in_together(client, runtime, number):
    org, account = number
    wamid = new_wamid()
    message = await outbound_message(runtime, client, number, wamid=wamid)
    unknown = new_wamid()
    before = len(await stored_events(runtime, org.id))
    await _process_together(
        runtime,
        account,
        [
            status_body(account, "delivered", wamid, "1698266948"),
            status_body(account, "read", wamid, "1698266950"),
            status_body(account, "delivered", wamid, "1698266948"),  # delivered again
            status_body(account, "sent", unknown, "1698266949"),  # its send is not recorded yet
        ],
    )
    current = await reload(runtime, message.id)
    assert (current.status, current.status_at.timestamp()) == (MessageStatus.READ, 1698266950)
    assert [e.status for e in await status_events(runtime, wamid)] == ["delivered", "read"]
    [waiting] = await status_events(runtime, unknown)
    assert (waiting.message_id, waiting.applied_at) == (None, None)
    updates = (await stored_events(runtime, org.id))[before:]
    assert [(e.type, e.data["status"]) for e in updates] == [("message.updated", "READ")]


async def test_a_batch_holds_its_open_conversations_until_it_commits(runtime, number):
    """While a batch attaches messages to a conversation, an agent cannot close it under the batch
    (on SQLite transactions run one at a time, which holds it as well)."""
    if runtime.settings.is_sqlite:
        pytest.skip("SQLite runs one write transaction at a time")
    org, account = number
    await _process_together(runtime, account, [_body(account, ANN, _text(_wamid(), "hi", 1_700_000_000))])
    [conversation] = await conversations_of(runtime, org.id)
    async with runtime.sessionmaker() as batch, runtime.sessionmaker() as agent:
        threads = await resolve_threads(batch, [Sender(account, ANN)])
        assert threads[account.id, ANN].conversation.id == conversation.id
        await agent.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(DBAPIError, match="lock"):
            await agent.execute(
                update(Conversation)
                .where(Conversation.id == conversation.id)
                .values(status=ConversationStatus.CLOSED)
            )
        await agent.rollback()
        await batch.rollback()


async def _statements_processing(runtime: Runtime, account: WhatsAppAccount, bodies: list[bytes]) -> int:
    """The statements that processing ``bodies`` together takes, its writes included (the events'
    claim and the commit aside)."""
    async with runtime.unit_of_work() as session:
        events = [WebhookEvent(body=b, phone_number_id=account.phone_number_id) for b in bodies]
        session.add_all(events)
    async with runtime.unit_of_work() as session:
        loaded = await session.scalars(
            select(WebhookEvent).where(WebhookEvent.id.in_([e.id for e in events]))
        )
        async with counting(session) as statements:
            await process_events(session, runtime, list(loaded))
            await session.flush()
    return len(statements)


@pytest.mark.parametrize("size", [1, 7])
async def test_a_batch_takes_the_same_few_statements_whatever_its_size(runtime, number, size):
    """Pinned, so that the drain's cost cannot grow back unnoticed: customers writing first (their
    contacts and conversations created), writing again, and delivery statuses of our messages."""
    org, account = number
    customers = [f"1555{n:07d}" for n in range(size)]

    def texts(second: int) -> list[bytes]:
        return [_body(account, c, _text(_wamid(), "hola", 1_700_000_000 + second)) for c in customers]

    # read the events' account, the wamids stored before and the contacts; insert the contacts,
    # the conversations and the messages; read routing's rules and the bot's and routing's
    # settings (once each); update the conversations and the events
    assert await _statements_processing(runtime, account, texts(0)) == 11
    # read the events' account, the wamids stored before, the contacts and their open
    # conversations (locked) with their tags; insert the messages; update the conversations, the
    # replies' campaign recipients and the events; read the auto-replies' settings (once)
    assert await _statements_processing(runtime, account, texts(1)) == 10
    sent = {c.id: new_wamid() for c in await conversations_of(runtime, org.id)}
    await agent_messages(runtime, org.id, sent)
    statuses = [status_body(account, "delivered", wamid, "1698266948") for wamid in sent.values()]
    # read the account and the messages (locked, with their conversations' audience); insert the
    # statuses; update the messages and the events
    assert await _statements_processing(runtime, account, statuses) == 5
