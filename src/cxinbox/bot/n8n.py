"""An N8N workflow's answer for a conversation (``POST /n8n/bot-response``), sent as the bot's reply.

No bearer token: the answer carries ``X-Signature-256``, an HMAC-SHA256 of the raw body keyed with
the organization's ``n8nSecret``, and is taken only from an organization whose active config is in
N8N mode. A conversation that is not found, an organization without that config and a wrong
signature all answer the same 401, so the endpoint reveals nothing. The conversation must still be
the bot's (BOT_HANDLING), so an answer arriving after an agent took over is refused, never sent.
An optional ``messageId`` makes a redelivery answer again without sending twice.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import Usage
from cxinbox.bot import usage
from cxinbox.conversations import changes, status
from cxinbox.conversations.timeline import SYSTEM
from cxinbox.core.errors import Conflict, NotImplementedYet, ValidationFailed
from cxinbox.core.wire import ApiModel, RequestModel
from cxinbox.models.bot import BotConfig, BotMode, N8nCallback
from cxinbox.models.inbox import Conversation, ConversationStatus, SenderType
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound import compose
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
    if body.message_id:
        earlier = await session.get(N8nCallback, (conversation.organization_id, body.message_id))
        if earlier is not None:
            return BotResponseResult(
                conversation_id=conversation.id,
                message_id=earlier.sent_message_id,
                handoff=earlier.sent_message_id is None,
                duplicate=True,
            )
    if conversation.status != ConversationStatus.BOT_HANDLING:
        raise NotBotHandling()
    sent_id = await _act(session, runtime, conversation, body.message)
    if body.message_id:
        session.add(
            N8nCallback(
                organization_id=conversation.organization_id,
                message_id=body.message_id,
                sent_message_id=sent_id,
            )
        )
        await session.flush()
    return BotResponseResult(
        conversation_id=conversation.id, message_id=sent_id, handoff=sent_id is None, duplicate=False
    )


async def _act(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, message: N8nMessage
) -> str | None:
    if message.type == "handoff":

        def decide(c: Conversation) -> dict[str, Any]:
            status.ensure_move(c.status, ConversationStatus.OPEN)
            return changes.moving_to(c, ConversationStatus.OPEN)

        await changes.apply(session, conversation, decide, SYSTEM, HANDOFF_REASON)
        return None
    if message.type != "text":
        raise NotImplementedYet("Media answers from N8N are not available yet: send text or a handoff")
    if not (message.text or "").strip():
        raise ValidationFailed.field("message.text", "a text answer needs its text")
    sent = await compose.queue_message(
        session,
        runtime,
        conversation,
        compose.text_message(message.text or ""),
        compose.Sender(SenderType.BOT),
    )
    await usage.record(session, conversation.organization_id, Usage(), replies=1)
    return sent.id
