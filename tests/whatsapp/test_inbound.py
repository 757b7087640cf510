"""Inbound messages: every type, contacts, conversations, exactly-once per wamid, events."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cxinbox.models.event_log import EventRecord
from cxinbox.models.inbox import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    MessageType,
    SenderType,
)
from cxinbox.whatsapp.inbound.parse import arrival_order
from tests.fixtures.whatsapp import (
    connect_number,
    contacts_of,
    conversations_of,
    deliver,
    for_number,
    messages_of,
    sample,
)


@pytest.fixture
async def number(runtime, factory, graph):
    org = await factory.org()
    return org, await connect_number(runtime, graph, org.id)


async def _one_message(client, runtime, number, file, case):
    org, account = number
    await deliver(client, runtime, for_number(sample(file, case), account.phone_number_id))
    [message] = await messages_of(runtime, org.id)
    return message


async def test_text_creates_contact_conversation_message_and_events(client, runtime, number):
    org, account = number
    message = await _one_message(client, runtime, number, "message.json", "text")
    assert (message.type, message.text, message.direction) == (
        MessageType.TEXT,
        "Body Text",
        Direction.INBOUND,
    )
    assert (message.sender_type, message.status) == (SenderType.CUSTOMER, MessageStatus.RECEIVED)
    assert message.wa_message_id.startswith("wamid.")
    assert message.provider_timestamp.timestamp() == 1697043223
    assert int(message.ordered_at.timestamp()) == 1697043223  # within its second (arrival_order)
    [contact] = await contacts_of(runtime, org.id)
    assert (contact.wa_id, contact.phone, contact.name) == ("972987654321", "+972987654321", "Test Name")
    assert contact.user_id == "US.13491208655302741918"
    [conversation] = await conversations_of(runtime, org.id)
    assert conversation.whatsapp_account_id == account.id
    assert conversation.contact_id == contact.id
    assert conversation.status == ConversationStatus.OPEN
    assert (conversation.unread_count, conversation.needs_action) == (1, True)
    assert conversation.last_message_preview == "Body Text"
    assert conversation.last_message_at == message.ordered_at == conversation.last_inbound_at
    async with runtime.sessionmaker() as session:
        events = list(
            await session.scalars(
                select(EventRecord).where(EventRecord.organization_id == org.id).order_by(EventRecord.seq)
            )
        )
    assert [e.type for e in events] == ["conversation.created", "message.created"]
    assert events[1].data["waMessageId"] == message.wa_message_id
    assert events[1].data["conversationId"] == conversation.id
    assert events[0].data["contact"]["name"] == "Test Name"
    assert events[0].audience == {"conversationId": conversation.id, "assignedToId": None, "teamId": None}


async def test_duplicate_delivery_is_stored_once(client, runtime, number):
    org, account = number
    body = for_number(sample("message.json", "text"), account.phone_number_id)
    await deliver(client, runtime, body)
    await deliver(client, runtime, body)
    assert len(await messages_of(runtime, org.id)) == 1
    [conversation] = await conversations_of(runtime, org.id)
    assert conversation.unread_count == 1


async def test_every_entry_change_and_message_of_a_payload(client, runtime, number):
    org, account = number
    payload = sample("message.json", "text")
    entry = payload["entry"][0]
    value = entry["changes"][0]["value"]
    second = copy.deepcopy(value["messages"][0]) | {"id": "wamid.second", "timestamp": "1697043300"}
    second["text"] = {"body": "second"}
    value["messages"].append(second)
    other_entry = copy.deepcopy(entry)
    other_value = other_entry["changes"][0]["value"]
    other_value["contacts"] = [{"profile": {"name": "Other"}, "wa_id": "15550001111"}]
    other_value["messages"] = [
        {
            "from": "15550001111",
            "id": "wamid.third",
            "timestamp": "1697043400",
            "type": "text",
            "text": {"body": "3"},
        }
    ]
    other_entry["changes"].append(copy.deepcopy(other_entry["changes"][0]))
    other_entry["changes"][1]["value"]["messages"][0]["id"] = "wamid.fourth"
    payload["entry"].append(other_entry)
    await deliver(client, runtime, for_number(payload, account.phone_number_id))
    messages = await messages_of(runtime, org.id)
    assert [m.text for m in messages] == ["Body Text", "second", "3", "3"]
    assert {c.name for c in await contacts_of(runtime, org.id)} == {"Test Name", "Other"}
    conversations = await conversations_of(runtime, org.id)
    assert sorted(c.unread_count for c in conversations) == [2, 2]


async def test_messages_out_of_order_keep_the_newest_as_preview(client, runtime, number):
    org, account = number
    newer = sample("message.json", "text")
    older = sample("message.json", "reply")
    await deliver(client, runtime, for_number(newer, account.phone_number_id))  # 1697043223
    await deliver(client, runtime, for_number(older, account.phone_number_id))  # 1697044746 is later
    payload = sample("message.json", "forwarded")  # 1697044815, newest
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "1697000000"  # now oldest
    await deliver(client, runtime, for_number(payload, account.phone_number_id))
    [conversation] = await conversations_of(runtime, org.id)
    assert conversation.last_message_preview == "replied text"
    assert conversation.unread_count == 3
    assert [m.text for m in await messages_of(runtime, org.id)] == [
        "forwarded text",
        "Body Text",
        "replied text",
    ]


async def test_an_answer_in_the_second_of_our_reply_sorts_after_it(client, runtime, number):
    """Meta stamps whole seconds: the customer's answer, stamped with the second in which we sent
    our reply (at .400), was written after it and sorts after it."""
    org, account = number
    second = int(time.time()) - 1  # a second that has passed: its answer was received after it
    first = sample("message.json", "text")
    first["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(second - 60)
    await deliver(client, runtime, for_number(first, account.phone_number_id))
    [question] = await messages_of(runtime, org.id)
    reply_at = datetime.fromtimestamp(second, UTC) + timedelta(milliseconds=400)
    async with runtime.unit_of_work() as session:  # it stands for the bot's reply sent at .400
        await session.execute(
            update(Message)
            .where(Message.id == question.id)
            .values(direction=Direction.OUTBOUND, sender_type=SenderType.BOT, ordered_at=reply_at)
        )
    answer = sample("message.json", "reply")
    answer["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(second)
    await deliver(client, runtime, for_number(answer, account.phone_number_id))
    messages = await messages_of(runtime, org.id)
    assert [m.sender_type for m in messages] == [SenderType.BOT, SenderType.CUSTOMER]
    assert messages[1].provider_timestamp == datetime.fromtimestamp(second, UTC)


def test_an_arrival_sorts_within_its_second_and_never_before_it():
    t = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert arrival_order(t, t + timedelta(milliseconds=250)) == t + timedelta(milliseconds=250)
    assert arrival_order(t, t + timedelta(seconds=30)) == t + timedelta(microseconds=999_999)
    assert arrival_order(t, t - timedelta(seconds=5)) == t  # Meta's clock ahead of ours


async def test_a_closed_conversation_is_followed_by_a_new_one(client, runtime, number):
    org, account = number
    await deliver(client, runtime, for_number(sample("message.json", "text"), account.phone_number_id))
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.organization_id == org.id)
            .values(status=ConversationStatus.CLOSED)
        )
    await deliver(client, runtime, for_number(sample("message.json", "text"), account.phone_number_id))
    conversations = await conversations_of(runtime, org.id)
    assert [c.status for c in conversations] == [ConversationStatus.CLOSED, ConversationStatus.OPEN]
    assert len({m.conversation_id for m in await messages_of(runtime, org.id)}) == 2


async def test_a_late_replay_opens_no_conversation(client, runtime, number):
    """Meta delivers again what it thinks unacknowledged, possibly after an agent closed the
    conversation: the message is known, so nothing is opened for it."""
    org, account = number
    body = for_number(sample("message.json", "text"), account.phone_number_id)
    await deliver(client, runtime, body)
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.organization_id == org.id)
            .values(status=ConversationStatus.CLOSED)
        )
    await deliver(client, runtime, body)
    assert [c.status for c in await conversations_of(runtime, org.id)] == [ConversationStatus.CLOSED]
    assert len(await messages_of(runtime, org.id)) == 1


@pytest.mark.parametrize(
    ("file", "case", "type", "text"),
    [
        ("message.json", "image", MessageType.IMAGE, None),
        ("message.json", "video", MessageType.VIDEO, "caption"),
        ("message.json", "document", MessageType.DOCUMENT, "caption"),
        ("message.json", "voice", MessageType.AUDIO, None),
        ("message.json", "animated_sticker", MessageType.STICKER, None),
        ("message.json", "chosen_location", MessageType.LOCATION, "Facebook HQ"),
        ("message.json", "contacts", MessageType.CONTACTS, "Chandler Bing, Monica, Rachel Green"),
        ("message.json", "order", MessageType.ORDER, None),
        ("message.json", "unsupported", MessageType.UNSUPPORTED, None),
        ("message.json", "interactive_message_with_err", MessageType.INTERACTIVE, None),
        ("callback_button.json", "button", MessageType.INTERACTIVE, "title"),
        ("callback_button.json", "quick_reply", MessageType.BUTTON, "title"),
        ("callback_selection.json", "description", MessageType.INTERACTIVE, "title"),
        ("flow_completion.json", "completion", MessageType.INTERACTIVE, "Sent"),
        (
            "system.json",
            "phone_number_change",
            MessageType.SYSTEM,
            "User A changed from 972987654321 to 972912345678",
        ),
    ],
)
async def test_message_types(client, runtime, number, file, case, type, text):
    message = await _one_message(client, runtime, number, file, case)
    assert (message.type, message.text) == (type, text)


async def test_type_details_are_kept(client, runtime, number):
    org, account = number
    for file, case in [
        ("message.json", "voice"),
        ("message.json", "chosen_location"),
        ("message.json", "order"),
        ("message.json", "unsupported"),
        ("message.json", "reply"),
        ("message.json", "forwarded_many_times"),
        ("message.json", "referral"),
        ("callback_selection.json", "description"),
        ("flow_completion.json", "completion"),
        ("system.json", "phone_number_change"),
    ]:
        await deliver(client, runtime, for_number(sample(file, case), account.phone_number_id))
    by_type: dict = {}
    for m in await messages_of(runtime, org.id):
        by_type.setdefault(m.type, []).append(m)
    [voice] = by_type[MessageType.AUDIO]
    assert voice.media["voice"] is True and voice.media["providerMediaId"] == "1234567890987654321"
    [location] = by_type[MessageType.LOCATION]
    assert location.payload["location"]["latitude"] == 37.4611978
    [order] = by_type[MessageType.ORDER]
    assert len(order.payload["order"]["product_items"]) == 3
    [unsupported] = by_type[MessageType.UNSUPPORTED]
    assert unsupported.error["code"] == 131051
    texts = {m.text: m for m in by_type[MessageType.TEXT]}
    assert texts["replied text"].reply_to_wa_message_id.startswith("wamid.")
    assert texts["text forwarded many times"].context["frequentlyForwarded"] is True
    assert texts["BODY"].referral["ctwa_clid"] == "CTWA_CLID"
    interactive = {m.payload["interactiveType"]: m for m in by_type[MessageType.INTERACTIVE]}
    assert interactive["list_reply"].payload["description"] == "description"
    assert interactive["nfm_reply"].payload["response"]["delivery_rating"] == "4"
    [system] = by_type[MessageType.SYSTEM]
    assert system.sender_type == SenderType.SYSTEM
    assert system.payload["system"]["wa_id"] == "972912345678"


def _pointing_at(
    payload: dict, account, field_path: list[str], wamid: str, timestamp: str | None = None
) -> bytes:
    """``payload`` for ``account`` whose ``field_path`` (inside the first message) names ``wamid``."""
    msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    if timestamp:
        msg["timestamp"] = timestamp
    target = msg
    for key in field_path[:-1]:
        target = target[key]
    target[field_path[-1]] = "TARGET-WAMID"
    return for_number(payload, account.phone_number_id).replace(b"TARGET-WAMID", wamid.encode())


async def test_reactions_attach_to_their_target_and_an_empty_emoji_removes(client, runtime, number):
    org, account = number
    await deliver(client, runtime, for_number(sample("message.json", "text"), account.phone_number_id))
    [target] = await messages_of(runtime, org.id)

    async def react(case: str, timestamp: str) -> dict | None:
        body = _pointing_at(
            sample("message.json", case), account, ["reaction", "message_id"], target.wa_message_id, timestamp
        )
        await deliver(client, runtime, body)
        [message] = await messages_of(runtime, org.id)  # a reaction is not a message of its own
        return message.reaction

    assert (await react("reaction", "1697044456"))["emoji"] == "😮"
    assert (await react("unreaction_empty", "1697044500"))["emoji"] is None
    assert (await react("reaction", "1697044460"))["emoji"] is None  # older, arriving late
    assert (await react("unreaction_no_emoji", "1697044400"))["emoji"] is None
    assert (await react("reaction", "1697044600"))["emoji"] == "😮"


async def test_edits_and_deletions_apply_to_the_original(client, runtime, number):
    org, account = number
    await deliver(client, runtime, for_number(sample("message.json", "video"), account.phone_number_id))
    [original] = await messages_of(runtime, org.id)
    edit = sample("edited_message.json", "image")
    edit["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = account.phone_number_id
    await deliver(
        client, runtime, _pointing_at(edit, account, ["edit", "original_message_id"], original.wa_message_id)
    )
    [message] = await messages_of(runtime, org.id)
    assert message.text == "Updated image caption"
    assert message.media["caption"] == "Updated image caption"
    assert message.edited_at is not None
    revoke = sample("deleted_message.json", "revoke")
    revoke["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.revoke"
    await deliver(
        client,
        runtime,
        _pointing_at(revoke, account, ["revoke", "original_message_id"], original.wa_message_id),
    )
    [message] = await messages_of(runtime, org.id)
    assert message.deleted_at is not None
