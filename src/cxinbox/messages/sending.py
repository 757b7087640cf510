"""Sending from the inbox: text, media and reactions, each idempotent under an ``Idempotency-Key``.

The message and its outbox row are written in the request's transaction and answered 201 with the
PENDING message; delivery (and any Graph rejection, as FAILED with ``message.updated``) follows.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.conversations.changes import reopen_for_reply
from cxinbox.conversations.repository import visible_conversation
from cxinbox.conversations.timeline import Actor
from cxinbox.core.errors import Conflict, ValidationFailed
from cxinbox.files.names import safe_filename
from cxinbox.messages import idempotency
from cxinbox.messages.idempotency import Answer
from cxinbox.messages.repository import MessageRepository
from cxinbox.messages.schemas import React, SendMessage
from cxinbox.messages.service import envelope, visible_message
from cxinbox.models.inbox import Conversation, Message, SenderType
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound import compose
from cxinbox.whatsapp.outbound.compose import CAPTIONED, Outgoing, Sender, WindowClosed
from cxinbox.whatsapp.outbound.media import classify


class MessageNotSent(Conflict):
    code = "MESSAGE_NOT_SENT"
    message = "The message has no WhatsApp id yet (it was not sent)"


def sender_of(principal: Principal) -> Sender:
    """People in the inbox send as AGENT; an API key (an integration) sends as SYSTEM."""
    if principal.user_id is None:
        return Sender(SenderType.SYSTEM)
    return Sender(SenderType.AGENT, principal.user_id)


async def send_text(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    conversation_id: str,
    body: SendMessage,
    key: str | None,
) -> Answer:
    async def work() -> Answer:
        conversation = await visible_conversation(session, principal, conversation_id)
        outgoing = compose.text_message(body.text, preview_url=body.preview_url)
        return await _queue(session, runtime, principal, conversation, outgoing, body.reply_to_message_id)

    request = idempotency.fingerprint("text", conversation_id, body.model_dump_json())
    return await idempotency.once(session, principal.tenant, key, request, work)


async def send_media(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    conversation_id: str,
    upload: tuple[bytes, str | None, str],
    caption: str | None,
    reply_to_message_id: str | None,
    key: str | None,
) -> Answer:
    data, declared_type, filename = upload
    sha256 = hashlib.sha256(data).hexdigest()

    async def work() -> Answer:
        kind = classify(data, declared_type, filename)
        if caption and kind.kind.type not in CAPTIONED:
            raise ValidationFailed.field("caption", f"{kind.kind.type.value} messages take no caption")
        conversation = await visible_conversation(session, principal, conversation_id)
        if not compose.window_open(conversation):
            raise WindowClosed()  # before the file is stored
        storage_key = f"outbound-media/{conversation.organization_id}/{uuid.uuid4().hex}/{_safe(filename)}"
        await runtime.storage.save(storage_key, data, kind.mime_type)
        outgoing = compose.media_message(
            kind.kind.type,
            storage_key=storage_key,
            mime_type=kind.mime_type,
            filename=_safe(filename),
            size=len(data),
            sha256=sha256,
            caption=caption,
        )
        return await _queue(session, runtime, principal, conversation, outgoing, reply_to_message_id)

    request = idempotency.fingerprint(
        "media", conversation_id, sha256, caption or "", reply_to_message_id or ""
    )
    return await idempotency.once(session, principal.tenant, key, request, work)


async def react(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    message_id: str,
    body: React,
    key: str | None,
) -> Answer:
    async def work() -> Answer:
        target, conversation = await visible_message(session, principal, message_id)
        if not target.wa_message_id:
            raise MessageNotSent()
        return await _queue(
            session, runtime, principal, conversation, compose.reaction_message(target, body.emoji)
        )

    request = idempotency.fingerprint("react", message_id, body.emoji)
    return await idempotency.once(session, principal.tenant, key, request, work)


async def _queue(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    conversation: Conversation,
    outgoing: Outgoing,
    reply_to_message_id: str | None = None,
) -> Answer:
    """Queue ``outgoing``; a CLOSED conversation is reopened first (if the send is refused, the
    whole transaction rolls back and it stays closed)."""
    conversation = await reopen_for_reply(session, conversation, Actor.of(principal))
    if reply_to_message_id:
        target = await _reply_target(session, principal, conversation, reply_to_message_id)
        outgoing = outgoing.replying_to(target)
    message = await compose.queue_message(session, runtime, conversation, outgoing, sender_of(principal))
    return Answer(201, envelope(runtime, message))


async def _reply_target(
    session: AsyncSession, principal: Principal, conversation: Conversation, message_id: str
) -> str:
    target: Message | None = await MessageRepository(session, principal.tenant).get(message_id)
    if target is None or target.conversation_id != conversation.id:
        raise ValidationFailed.field("replyToMessageId", "is not a message of this conversation")
    if not target.wa_message_id:
        raise ValidationFailed.field("replyToMessageId", "was never sent, so it cannot be replied to")
    return target.wa_message_id


def _safe(filename: str) -> str:
    return safe_filename(filename) or "file"
