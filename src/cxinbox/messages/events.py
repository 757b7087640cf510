"""What the messages area publishes: ``message.*`` events carry ``MessageOut``, with the audience of
the message's conversation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.util import identity_key

from cxinbox.conversations.events import audience
from cxinbox.core.events import publish_event
from cxinbox.messages.hooks import outbound_changed
from cxinbox.messages.serializers import message_out
from cxinbox.models.inbox import Conversation, Message
from cxinbox.runtime import Runtime


def publish_message(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, message: Message, type: str
) -> None:
    _publish(session, runtime, message, type, audience(conversation))


def _publish(
    session: AsyncSession, runtime: Runtime, message: Message, type: str, to: dict[str, Any]
) -> None:
    data = message_out(runtime, message).model_dump(mode="json", by_alias=True)
    publish_event(session, message.organization_id, type, data, to)


async def publish_messages_updated_to(
    session: AsyncSession, runtime: Runtime, messages: list[tuple[Message, dict[str, Any]]]
) -> None:
    """``message.updated`` for each message, with the audience its caller read along with it
    (``conversations.events.audience_of``): no flush, no read of the conversations."""
    if not messages:
        return
    await outbound_changed(session, [message for message, _ in messages])
    for message, to in messages:
        _publish(session, runtime, message, "message.updated", to)


async def publish_message_updated(session: AsyncSession, runtime: Runtime, message: Message) -> None:
    await publish_messages_updated(session, runtime, [message])


async def publish_messages_updated(session: AsyncSession, runtime: Runtime, messages: list[Message]) -> None:
    """``message.updated`` for each of ``messages``; their conversations (for the audience) are read
    in one query, those this session holds already not at all."""
    if not messages:
        return
    await session.flush()
    await outbound_changed(session, messages)
    held = {
        m.conversation_id: c
        for m in messages
        if (c := session.identity_map.get(identity_key(Conversation, m.conversation_id))) is not None
    }
    missing = {m.conversation_id for m in messages} - held.keys()
    if missing:
        stmt = select(Conversation).where(Conversation.id.in_(missing)).options(lazyload("*"))
        held |= {c.id: c for c in await session.scalars(stmt)}
    for message in messages:
        publish_message(session, runtime, held[message.conversation_id], message, "message.updated")
