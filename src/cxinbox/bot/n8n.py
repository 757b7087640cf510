"""An N8N workflow's answer for a conversation (``POST /n8n/bot-response``), sent as the bot's reply.

No bearer token: the answer carries ``X-Signature-256``, an HMAC-SHA256 of the raw body keyed with
the organization's ``n8nSecret``, and is taken only from an organization whose active config is in
N8N mode. A conversation that is not found, an organization without that config and a wrong
signature all answer the same 401, so the endpoint reveals nothing. The conversation must still be
the bot's (BOT_HANDLING), so an answer arriving after an agent took over is refused, never sent.
An optional ``messageId`` makes a redelivery answer again without sending twice: it is claimed
(insert-on-conflict-do-nothing) just before the answer is acted on. Media answers are
``bot.n8n_media``; a file at a URL is fetched with no transaction held, and the conversation's
status is checked again after the fetch.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import Usage
from cxinbox.bot import n8n_media, usage
from cxinbox.conversations import changes, status
from cxinbox.conversations.timeline import SYSTEM
from cxinbox.core.db import dialect_insert, release_transaction
from cxinbox.core.errors import Conflict, ValidationFailed
from cxinbox.core.wire import ApiModel, RequestModel
from cxinbox.models.bot import BotConfig, BotMode, N8nCallback
from cxinbox.models.inbox import Conversation, ConversationStatus, SenderType
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound import compose
from cxinbox.whatsapp.outbound.compose import WindowClosed
from cxinbox.whatsapp.signature import signature_matches
from cxinbox.whatsapp.webhooks import InvalidSignature

HANDOFF_REASON = "bot-handoff"
MAX_TEXT = 4096


class NotBotHandling(Conflict):
    code = "NOT_BOT_HANDLING"
    message = "The conversation is not the bot's any more"


class N8nMessage(RequestModel):
    type: Literal["text", "image", "video", "document", "audio", "handoff"]
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    url: str | None = Field(default=None, max_length=2000)
    media_id: str | None = Field(default=None, max_length=100)
    caption: str | None = Field(default=None, max_length=1024)
    summary: str | None = Field(default=None, max_length=4000)


class BotResponse(RequestModel):
    conversation_id: str = Field(max_length=36)
    message: N8nMessage = Field(
        description='`{type:"text", text}`, `{type:"image|video|document|audio", url|mediaId, caption}` '
        'or `{type:"handoff", summary?}`'
    )
    message_id: str | None = Field(default=None, max_length=100, description="Makes the callback idempotent")


class BotResponseResult(ApiModel):
    conversation_id: str
    message_id: str | None = Field(description="The bot message sent (null for a handoff)")
    handoff: bool
    duplicate: bool = Field(description="This `messageId` was taken before: nothing was sent again")


async def take(
    session: AsyncSession, runtime: Runtime, raw: bytes, signature: str | None, body: BotResponse
) -> BotResponseResult:
    conversation = await session.get(Conversation, body.conversation_id)
    config = None
    if conversation is not None:
        config = await session.scalar(
            select(BotConfig).where(
                BotConfig.organization_id == conversation.organization_id, BotConfig.is_active.is_(True)
            )
        )
    secret = (
        runtime.secrets.decrypt(config.n8n_secret_encrypted)
        if config is not None and config.mode == BotMode.N8N and config.n8n_secret_encrypted
        else None
    )
    if conversation is None or secret is None or not signature_matches(signature, raw, [secret]):
        raise InvalidSignature()
    if body.message_id and (earlier := await _taken(session, conversation, body.message_id)):
        return earlier
    if conversation.status != ConversationStatus.BOT_HANDLING:
        raise NotBotHandling()
    outgoing = None
    if body.message.type != "handoff":
        outgoing = await _outgoing(session, runtime, conversation, body.message)
    if body.message_id and not await _claim(session, conversation.organization_id, body.message_id):
        earlier = await _taken(session, conversation, body.message_id)
        if earlier is None:
            raise changes.ConcurrentChange()
        return earlier
    sent_id = None
    if outgoing is None:
        await _hand_off(session, conversation)
    else:
        sent_id = await _send(session, runtime, conversation, outgoing)
    if body.message_id and sent_id:
        await session.execute(
            update(N8nCallback)
            .where(
                N8nCallback.organization_id == conversation.organization_id,
                N8nCallback.message_id == body.message_id,
            )
            .values(sent_message_id=sent_id)
        )
    return BotResponseResult(
        conversation_id=conversation.id, message_id=sent_id, handoff=sent_id is None, duplicate=False
    )


async def _taken(
    session: AsyncSession, conversation: Conversation, message_id: str
) -> BotResponseResult | None:
    """The answer to a redelivery of a ``messageId`` taken before."""
    earlier = await session.scalar(
        select(N8nCallback)
        .where(
            N8nCallback.organization_id == conversation.organization_id, N8nCallback.message_id == message_id
        )
        .execution_options(populate_existing=True)
    )
    if earlier is None:
        return None
    return BotResponseResult(
        conversation_id=conversation.id,
        message_id=earlier.sent_message_id,
        handoff=earlier.sent_message_id is None,
        duplicate=True,
    )


async def _claim(session: AsyncSession, organization_id: str, message_id: str) -> bool:
    """Take ``message_id`` (insert-on-conflict-do-nothing): of two deliveries at once, one wins."""
    stmt = (
        dialect_insert(session)(N8nCallback)
        .values(organization_id=organization_id, message_id=message_id, sent_message_id=None)
        .on_conflict_do_nothing()
        .returning(N8nCallback.message_id)
    )
    return await session.scalar(stmt) is not None


async def _hand_off(session: AsyncSession, conversation: Conversation) -> None:
    def decide(c: Conversation) -> dict[str, Any]:
        status.ensure_move(c.status, ConversationStatus.OPEN)
        return changes.moving_to(c, ConversationStatus.OPEN)

    await changes.apply(session, conversation, decide, SYSTEM, HANDOFF_REASON)


async def _outgoing(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, message: N8nMessage
) -> compose.Outgoing:
    if message.type == "text":
        if not (message.text or "").strip():
            raise ValidationFailed.field("message.text", "a text answer needs its text")
        return compose.text_message(message.text or "")
    if message.url is not None:
        if not compose.window_open(conversation):
            raise WindowClosed()  # before anything is fetched
        await release_transaction(session)  # no lock held while the file's host answers
    outgoing = await n8n_media.outgoing(
        session, runtime, conversation, message.type, message.url, message.media_id, message.caption
    )
    await session.refresh(conversation)
    if conversation.status != ConversationStatus.BOT_HANDLING:
        raise NotBotHandling()  # an agent took over meanwhile
    return outgoing


async def _send(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, outgoing: compose.Outgoing
) -> str:
    sent = await compose.queue_message(
        session, runtime, conversation, outgoing, compose.Sender(SenderType.BOT)
    )
    await usage.record(session, conversation.organization_id, Usage(), replies=1)
    return sent.id
