"""Connected numbers, signed webhook posts and waiting for the jobs that process them."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from cxinbox.models.inbox import (
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    MessageStatusEvent,
    MessageType,
    SenderType,
)
from cxinbox.models.whatsapp import WebhookEvent, WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.signature import sign
from tests.conftest import META_APP_SECRET
from tests.fakes.graph import FakeGraph

SAMPLES = Path(__file__).parent / "samples"
SAMPLE_NUMBER = "1122334455667"
T = TypeVar("T")


def unique_number() -> str:
    return str(random.randint(10**14, 10**15 - 1))


async def connect_number(
    runtime: Runtime, graph: FakeGraph, organization_id: str, *, app_secret: str | None = None
) -> WhatsAppAccount:
    """A connected account, written directly (the accounts endpoints have their own tests)."""
    token = f"token-{uuid.uuid4().hex}"
    number = unique_number()
    graph.add_number(number, token)
    async with runtime.unit_of_work() as session:
        account = WhatsAppAccount(
            organization_id=organization_id,
            waba_id=unique_number(),
            phone_number_id=number,
            display_phone_number="+1 555 0100",
            access_token_encrypted=runtime.secrets.encrypt(token),
            app_secret_encrypted=runtime.secrets.encrypt(app_secret) if app_secret else None,
        )
        session.add(account)
    account.token = token  # type: ignore[attr-defined]
    return account


def sample(file: str, case: str) -> dict[str, Any]:
    return json.loads((SAMPLES / file).read_text())[case]


def for_number(payload: dict[str, Any], phone_number_id: str) -> bytes:
    """``payload`` addressed to ``phone_number_id``, with wamids made unique to this call (wamids are
    unique on the platform and the PostgreSQL database is shared across runs)."""
    text = json.dumps(payload)
    text = text.replace(SAMPLE_NUMBER, phone_number_id).replace("<BUSINESS_PHONE_NUMBER_ID>", phone_number_id)
    return text.replace("wamid.", f"wamid.{uuid.uuid4().hex[:12]}.").encode()


async def post_webhook(client: Any, body: bytes, *, secret: str = META_APP_SECRET) -> Any:
    return await client.post(
        "/webhooks/whatsapp",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, body)},
    )


async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float = 30.0) -> T:
    """Poll ``check`` until it answers something truthy (jobs run in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


async def processed(runtime: Runtime, event_id: str) -> WebhookEvent:
    async def check() -> WebhookEvent | None:
        async with runtime.sessionmaker() as session:
            event = await session.get(WebhookEvent, event_id)
            return event if event is not None and event.processed_at is not None else None

    return await eventually(check)


async def deliver(client: Any, runtime: Runtime, body: bytes, **kwargs: Any) -> WebhookEvent:
    response = await post_webhook(client, body, **kwargs)
    assert response.status_code == 200, response.text
    return await processed(runtime, response.json()["data"]["id"])


async def messages_of(runtime: Runtime, organization_id: str) -> list[Message]:
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(Message)
            .where(Message.organization_id == organization_id)
            .order_by(Message.ordered_at, Message.id)
        )
        return list(rows)


async def conversations_of(runtime: Runtime, organization_id: str) -> list[Conversation]:
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(Conversation)
            .where(Conversation.organization_id == organization_id)
            .order_by(Conversation.created_at)
        )
        return list(rows)


async def contacts_of(runtime: Runtime, organization_id: str) -> list[Contact]:
    async with runtime.sessionmaker() as session:
        return list(await session.scalars(select(Contact).where(Contact.organization_id == organization_id)))


def status_body(account, case: str, wamid: str, timestamp: str | None = None) -> bytes:
    payload = sample("message_status.json", case)
    status = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["id"] = "TARGET-WAMID"
    if timestamp:
        status["timestamp"] = timestamp
    return for_number(payload, account.phone_number_id).replace(b"TARGET-WAMID", wamid.encode())


async def outbound_message(runtime, client, number, *, wamid: str | None) -> Message:
    """An agent's message in a conversation (the sending pipeline is another area's)."""
    org, account = number
    await deliver(client, runtime, for_number(sample("message.json", "text"), account.phone_number_id))
    [conversation] = await conversations_of(runtime, org.id)
    async with runtime.unit_of_work() as session:
        message = Message(
            organization_id=org.id,
            conversation_id=conversation.id,
            direction=Direction.OUTBOUND,
            sender_type=SenderType.AGENT,
            type=MessageType.TEXT,
            text="Hello from us",
            status=MessageStatus.SENT if wamid else MessageStatus.PENDING,
            wa_message_id=wamid,
        )
        session.add(message)
    return message


async def reload(runtime, message_id: str) -> Message:
    async with runtime.sessionmaker() as session:
        return await session.get_one(Message, message_id)


async def status_events(runtime, wamid: str) -> list[MessageStatusEvent]:
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(MessageStatusEvent)
            .where(MessageStatusEvent.wa_message_id == wamid)
            .order_by(MessageStatusEvent.created_at)
        )
        return list(rows)


def new_wamid() -> str:
    return f"wamid.{uuid.uuid4().hex}"
