"""Reading and acting on a conversation's messages. Every message is reached through its
conversation's visibility: outside a principal's view it answers 404, like a missing id."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.conversations.repository import visible_conversation
from cxinbox.core.errors import Conflict, NotFound
from cxinbox.core.jobs import enqueue
from cxinbox.core.pagination import cursor_page
from cxinbox.core.wire import CursorMeta, Envelope
from cxinbox.messages.events import publish_message_updated
from cxinbox.messages.repository import CONVERSATION_ORDER, MessageRepository
from cxinbox.messages.schemas import MessageOut
from cxinbox.messages.serializers import message_out
from cxinbox.models.inbox import Conversation, Direction, MediaState, Message
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.media import download_media


def envelope(runtime: Runtime, message: Message) -> dict[str, Any]:
    """The wire body of one message, as a JSON-ready dict (stored for idempotent replays)."""
    return Envelope(data=message_out(runtime, message)).model_dump(mode="json", by_alias=True)


async def list_messages(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    conversation_id: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[MessageOut], CursorMeta]:
    conversation = await visible_conversation(session, principal, conversation_id)
    stmt = MessageRepository(session, principal.tenant).of_conversation(conversation.id)
    rows, meta = await cursor_page(
        session, stmt, CONVERSATION_ORDER, cursor, limit, key=lambda m: [m.ordered_at, m.id]
    )
    return [message_out(runtime, m) for m in rows], meta


async def visible_message(
    session: AsyncSession, principal: Principal, message_id: str
) -> tuple[Message, Conversation]:
    """The message (locked for update) and its conversation, if ``principal`` may see them."""
    repo = MessageRepository(session, principal.tenant)
    message = await session.scalar(
        repo.select()
        .where(Message.id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if message is None:
        raise NotFound("Message not found")
    try:
        conversation = await visible_conversation(session, principal, message.conversation_id)
    except NotFound as exc:
        raise NotFound("Message not found") from exc
    return message, conversation


async def toggle_hide(
    session: AsyncSession, runtime: Runtime, principal: Principal, message_id: str
) -> Message:
    message, _ = await visible_message(session, principal, message_id)
    message.is_hidden = not message.is_hidden
    await publish_message_updated(session, runtime, message)
    return message


async def retry_media(
    session: AsyncSession, runtime: Runtime, principal: Principal, message_id: str
) -> Message:
    """Download an inbound attachment again (its download failed, or the stored file is gone)."""
    message, _ = await visible_message(session, principal, message_id)
    media = message.media or {}
    if message.direction is not Direction.INBOUND or not media.get("providerMediaId"):
        raise Conflict("This message has no WhatsApp media to download", code="NO_MEDIA")
    key = media.get("storageKey")
    if media.get("state") == MediaState.DOWNLOADED.value and key and await runtime.storage.exists(key):
        raise Conflict("The media is already downloaded", code="MEDIA_ALREADY_DOWNLOADED")
    message.media = {**media, "state": MediaState.PENDING.value, "attempts": 0, "lastError": None}
    await publish_message_updated(session, runtime, message)
    enqueue(session, download_media, message_id=message.id)
    return message
