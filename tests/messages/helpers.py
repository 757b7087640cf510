"""Conversations ready for sending, and waiting for what delivery does in the background."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from cxinbox.core.clock import utcnow
from cxinbox.models.inbox import (
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    MessageType,
    SenderType,
)
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from tests.fakes.graph import FakeGraph
from tests.fixtures.factories import Org
from tests.whatsapp.helpers import connect_number, eventually, unique_number


@dataclass
class Thread:
    org: Org
    account: WhatsAppAccount
    contact: Contact
    conversation: Conversation
    #: the customer's message that opened the service window
    inbound: Message

    @property
    def id(self) -> str:
        return self.conversation.id

    @property
    def number(self) -> str:
        return self.account.phone_number_id


async def make_thread(
    runtime: Runtime,
    graph: FakeGraph,
    org: Org,
    *,
    account: WhatsAppAccount | None = None,
    last_inbound: timedelta | None = timedelta(minutes=5),
    assigned_to_id: str | None = None,
    team_id: str | None = None,
) -> Thread:
    """A conversation whose customer wrote ``last_inbound`` ago (``None``: never)."""
    account = account or await connect_number(runtime, graph, org.id)
    at = utcnow() - (last_inbound or timedelta(days=3))
    async with runtime.unit_of_work() as session:
        contact = Contact(organization_id=org.id, wa_id=unique_number(), name="Dana Customer")
        contact.phone = f"+{contact.wa_id}"
        session.add(contact)
        await session.flush()
        conversation = Conversation(
            organization_id=org.id,
            contact_id=contact.id,
            whatsapp_account_id=account.id,
            last_inbound_at=at if last_inbound is not None else None,
            last_message_at=at,
            assigned_to_id=assigned_to_id,
            team_id=team_id,
            needs_action=True,
        )
        session.add(conversation)
        await session.flush()
        inbound = Message(
            organization_id=org.id,
            conversation_id=conversation.id,
            direction=Direction.INBOUND,
            sender_type=SenderType.CUSTOMER,
            type=MessageType.TEXT,
            text="Where is my order?",
            status=MessageStatus.RECEIVED,
            wa_message_id=f"wamid.in.{uuid.uuid4().hex}",
            ordered_at=at,
        )
        session.add(inbound)
    return Thread(org, account, contact, conversation, inbound)


async def queued_text(
    runtime: Runtime,
    thread: Thread,
    text: str,
    *,
    state: OutboxState = OutboxState.QUEUED,
    due: datetime | None = None,
    locked_until: datetime | None = None,
) -> tuple[Message, OutboxEntry]:
    """An agent's text with its outbox row, written directly (as a send leaves them at commit)."""
    async with runtime.unit_of_work() as session:
        message = Message(
            organization_id=thread.org.id,
            conversation_id=thread.id,
            direction=Direction.OUTBOUND,
            sender_type=SenderType.AGENT,
            type=MessageType.TEXT,
            text=text,
            status=MessageStatus.PENDING,
        )
        session.add(message)
        await session.flush()
        entry = OutboxEntry(
            organization_id=thread.org.id,
            message_id=message.id,
            whatsapp_account_id=thread.account.id,
            recipient=thread.contact.wa_id,
            payload={"type": "text", "text": {"body": text}},
            state=state,
            next_attempt_at=due or utcnow(),
            locked_until=locked_until,
        )
        session.add(entry)
    return message, entry


async def load_message(runtime: Runtime, message_id: str) -> Message:
    async with runtime.sessionmaker() as session:
        return await session.get_one(Message, message_id)


async def load_outbox(runtime: Runtime, message_id: str) -> OutboxEntry:
    async with runtime.sessionmaker() as session:
        return (await session.scalars(select(OutboxEntry).where(OutboxEntry.message_id == message_id))).one()


async def until_status(runtime: Runtime, message_id: str, *statuses: MessageStatus) -> Message:
    async def check() -> Message | None:
        message = await load_message(runtime, message_id)
        return message if message.status in statuses else None

    return await eventually(check)


async def send_text(client, thread: Thread, text: str = "Hello from the team", **kwargs):
    headers = {**thread.org.admin.headers, **kwargs.pop("headers", {})}
    return await client.post(
        f"/conversations/{thread.id}/messages", json={"type": "text", "text": text, **kwargs}, headers=headers
    )


def status_webhook(phone_number_id: str, wamid: str, status: str) -> bytes:
    """A delivery status for ``wamid``, shaped as Meta posts it."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": phone_number_id},
        "statuses": [
            {"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": "15550199"}
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


async def failed_send(client, runtime: Runtime, graph: FakeGraph, thread: Thread, code: int = 131026) -> str:
    """The id of a message whose send Meta refused for good with ``code``."""
    graph.fail_next_sends(thread.number, (400, code, None))
    r = await send_text(client, thread, "This one will fail")
    assert r.status_code == 201, r.text
    message_id = r.json()["data"]["id"]
    await until_status(runtime, message_id, MessageStatus.FAILED)
    return message_id
