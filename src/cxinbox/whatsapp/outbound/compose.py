"""Writing an outbound message: the message (PENDING) and its outbox row in the caller's transaction.

Nothing is sent here. The delivery job is queued for after the commit, so a request that rolls back
sends nothing, and a crash between commit and send leaves a due outbox row for the sweeper.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations.events import publish_conversation
from cxinbox.conversations.summary import record_message, reload_many
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import Conflict
from cxinbox.core.ids import new_id
from cxinbox.core.jobs import enqueue
from cxinbox.messages.events import publish_message
from cxinbox.models.inbox import (
    Conversation,
    ConversationOrigin,
    ConversationStatus,
    Direction,
    MediaState,
    Message,
    MessageStatus,
    MessageType,
    SenderType,
)
from cxinbox.models.outbound import OutboxEntry
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.parse import PREVIEW_LENGTH
from cxinbox.whatsapp.outbound.delivery import deliver_message
from cxinbox.whatsapp.outbound.refusal import send_refusal

#: Meta's customer-service window: free-form messages only within 24 hours of the customer's last one
SERVICE_WINDOW = timedelta(hours=24)


class WindowClosed(Conflict):
    code = "WINDOW_CLOSED"
    message = "The 24-hour customer service window is closed: only a template message can be sent"


class StatusChanged(Conflict):
    """Raised by ``queue_message`` with ``while_status`` when the conversation has left that status."""

    code = "CONVERSATION_STATUS_CHANGED"
    message = "The conversation is no longer in the status the message was written for"


def window_open(conversation: Conversation) -> bool:
    last = conversation.last_inbound_at
    return last is not None and utcnow() - last < SERVICE_WINDOW


@dataclass(frozen=True)
class Sender:
    type: SenderType
    user_id: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """What to send: the message's own fields, and the type-specific part of the Graph request."""

    type: MessageType
    graph: dict[str, Any]
    text: str | None = None
    media: dict[str, Any] | None = None
    #: the stored file to upload before sending (outbound media)
    media_storage_key: str | None = None
    reaction: dict[str, Any] | None = None
    reaction_to_wa_message_id: str | None = None
    template_name: str | None = None
    reply_to_wa_message_id: str | None = None
    #: template messages may be sent outside the service window
    needs_window: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def preview(self) -> str:
        label = self.text or (self.media or {}).get("caption")
        return (label or f"[{self.type.value}]")[:PREVIEW_LENGTH]

    def replying_to(self, wamid: str) -> Outgoing:
        return replace(
            self, graph={**self.graph, "context": {"message_id": wamid}}, reply_to_wa_message_id=wamid
        )


def text_message(text: str, *, preview_url: bool = False) -> Outgoing:
    return Outgoing(
        type=MessageType.TEXT,
        graph={"type": "text", "text": {"body": text, "preview_url": preview_url}},
        text=text,
    )


#: media types whose Graph object takes a caption
CAPTIONED = frozenset({MessageType.IMAGE, MessageType.VIDEO, MessageType.DOCUMENT})


def media_message(
    type: MessageType,
    *,
    storage_key: str,
    mime_type: str,
    filename: str,
    size: int,
    sha256: str,
    caption: str | None,
) -> Outgoing:
    """A stored file to upload and send (the upload gives the Graph media id, at send time)."""
    content: dict[str, Any] = {}
    if caption:
        content["caption"] = caption
    if type is MessageType.DOCUMENT:
        content["filename"] = filename
    return Outgoing(
        type=type,
        graph={"type": type.value, type.value: content},
        media={
            "mimeType": mime_type,
            "filename": filename,
            "size": size,
            "sha256": sha256,
            "storageKey": storage_key,
            "state": MediaState.DOWNLOADED.value,
            "caption": caption,
            "providerMediaId": None,
        },
        media_storage_key=storage_key,
    )


def reaction_message(target: Message, emoji: str) -> Outgoing:
    """A reaction to ``target`` (an empty emoji removes ours)."""
    wamid = target.wa_message_id or ""
    return Outgoing(
        type=MessageType.REACTION,
        graph={"type": "reaction", "reaction": {"message_id": wamid, "emoji": emoji}},
        text=emoji or None,
        reaction={"emoji": emoji or None, "messageId": target.id, "waMessageId": wamid},
        reaction_to_wa_message_id=wamid,
    )


@dataclass(frozen=True)
class Queued:
    """One message for ``queue_messages``: what ``queue_message`` takes."""

    conversation: Conversation
    outgoing: Outgoing
    sender: Sender
    while_status: ConversationStatus | None = None


async def queue_message(
    session: AsyncSession,
    runtime: Runtime,
    conversation: Conversation,
    outgoing: Outgoing,
    sender: Sender,
    *,
    deliver: bool = True,
    while_status: ConversationStatus | None = None,
) -> Message:
    """Store ``outgoing`` as a PENDING message with its outbox row; the send runs after commit
    (unless not ``deliver``: the caller sends its rows in a batch, ``batch_delivery``). With
    ``while_status``, only while the conversation is in that status, checked by the UPDATE of its
    summary before anything is written (a compare-and-set: ``summary.record_message``), else
    ``StatusChanged``."""
    queued = Queued(conversation, outgoing, sender, while_status)
    (written,) = await queue_messages(session, runtime, [queued], deliver=deliver)
    if isinstance(written, Conflict):
        raise written
    return written


async def queue_messages(
    session: AsyncSession, runtime: Runtime, messages: list[Queued], *, deliver: bool = True
) -> list[Message | Conflict]:
    """``queue_message`` of each of ``messages`` (several conversations' at once: the bot's turns
    finished together), in its place in the answer the message queued or why it was not (a
    refusal of its number, ``WindowClosed``, ``StatusChanged``), which touches no other: each
    compare-and-set is an UPDATE of its own; the messages, their outbox rows and the reload of their
    conversations are one statement each."""
    now = utcnow()
    answers: list[Message | Conflict] = []
    written: list[tuple[Queued, Message, WhatsAppAccount]] = []
    for queued in messages:
        conversation, outgoing = queued.conversation, queued.outgoing
        account = await session.get_one(WhatsAppAccount, conversation.whatsapp_account_id)
        refused = send_refusal(account.status)
        if refused is None and outgoing.needs_window and not window_open(conversation):
            refused = WindowClosed()
        message = outbound_message(conversation, outgoing, queued.sender, now)
        if refused is None and not await record_message(
            session, message, outgoing.preview, from_customer=False, while_status=queued.while_status
        ):
            refused = StatusChanged()
        answers.append(message if refused is None else refused)
        if refused is None:
            written.append((queued, message, account))
    if not written:
        return answers
    session.add_all([message for _, message, _ in written])
    await session.flush()
    answered = {q.conversation.id for q, _, _ in written if q.sender.type is SenderType.AGENT}
    if answered:
        await _answered(session, answered)
    reloaded = await reload_many(session, {message.conversation_id for _, message, _ in written})
    outbox = [_outbox_row(q.outgoing, m, a, reloaded[m.conversation_id], now) for q, m, a in written]
    await session.execute(_INSERT_OUTBOX, outbox)
    for (_, message, _), row in zip(written, outbox, strict=True):
        conversation = reloaded[message.conversation_id]
        publish_message(session, runtime, conversation, message, "message.created")
        publish_conversation(session, conversation, "conversation.updated")
        if deliver:
            enqueue(session, deliver_message, outbox_id=row["id"])
    return answers


def _outbox_row(
    outgoing: Outgoing, message: Message, account: WhatsAppAccount, conversation: Conversation, now: datetime
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "organization_id": conversation.organization_id,
        "message_id": message.id,
        "whatsapp_account_id": account.id,
        "recipient": conversation.contact.wa_id,
        "payload": outgoing.graph,
        "media_storage_key": outgoing.media_storage_key,
        "template_name": outgoing.template_name,
        "next_attempt_at": now,
    }


#: the outbox row of ``queue_message``: a Core INSERT, its other columns their defaults (the ORM's
#: flush of one new object cost more than the statement)
_INSERT_OUTBOX = insert(cast(Table, OutboxEntry.__table__))


async def _answered(session: AsyncSession, conversation_ids: set[str]) -> None:
    """An agent's reply answers what the customer wrote: the conversation no longer needs action."""
    await session.execute(
        update(Conversation)
        .where(Conversation.id.in_(conversation_ids))
        .values(needs_action=False)
        .execution_options(synchronize_session=False)
    )


def outbound_message(
    conversation: Conversation, outgoing: Outgoing, sender: Sender, now: datetime, **fields: Any
) -> Message:
    """``outgoing`` as the PENDING message it is stored as (``fields``: columns set beside them)."""
    return Message(
        organization_id=conversation.organization_id,
        conversation_id=conversation.id,
        direction=Direction.OUTBOUND,
        sender_type=sender.type,
        sender_user_id=sender.user_id,
        type=outgoing.type,
        text=outgoing.text,
        media=outgoing.media,
        payload=outgoing.extra or None,
        status=MessageStatus.PENDING,
        ordered_at=now,
        context={"messageId": outgoing.reply_to_wa_message_id} if outgoing.reply_to_wa_message_id else None,
        reply_to_wa_message_id=outgoing.reply_to_wa_message_id,
        reaction_to_wa_message_id=outgoing.reaction_to_wa_message_id,
        reaction=outgoing.reaction,
        # a message in a simulator's conversation is simulated too: it never reaches the Graph API
        simulated=conversation.origin is ConversationOrigin.SIMULATED,
        **fields,
    )
