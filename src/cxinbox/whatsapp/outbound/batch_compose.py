"""Writing many outbound messages at once (a campaign's batch): what ``compose.queue_message`` does
for one, in a few statements whatever their number.

The messages (PENDING, one per conversation) and their outbox rows are inserted in one statement
each, the conversations' summaries moved forward in one UPDATE per distinct preview, and the
``message.created`` / ``conversation.updated`` events published from what was written (nothing is
read back; each event one message or conversation, as the realtime contract has them). Nothing is
sent here: the caller hands the outbox rows to ``batch_delivery`` after its commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations.events import audience, publish_conversation
from cxinbox.conversations.summary import SUMMARY_FIELDS, record_outbound
from cxinbox.core.bulk_rows import insert_rows
from cxinbox.core.clock import utcnow
from cxinbox.core.events import publish_event
from cxinbox.core.ids import new_ids
from cxinbox.messages.serializers import message_out
from cxinbox.models.inbox import Conversation, ConversationOrigin, Message
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.threads import OpenedConversation
from cxinbox.whatsapp.outbound import compose
from cxinbox.whatsapp.outbound.compose import Outgoing, Sender, WindowClosed, window_open
from cxinbox.whatsapp.outbound.refusal import send_refusal


@dataclass(frozen=True)
class Queued:
    message_id: str
    outbox_id: str


#: a message's own columns, then those it shares with every message of its shape (``_Shape``)
_OWN_COLUMNS = ("id", "conversation_id")
_SHARED_COLUMNS = (
    "organization_id", "direction", "sender_type", "sender_user_id", "type", "text", "media", "payload",
    "status", "ordered_at", "context", "reply_to_wa_message_id", "reaction_to_wa_message_id", "reaction",
    "is_hidden", "simulated", "created_at", "updated_at",
)  # fmt: skip
_MESSAGE_COLUMNS = _OWN_COLUMNS + _SHARED_COLUMNS
_OUTBOX_COLUMNS = (
    "id", "organization_id", "message_id", "whatsapp_account_id", "recipient", "payload",
    "media_storage_key", "template_name", "state", "attempts", "next_attempt_at", "permanent",
    "created_at", "updated_at",
)  # fmt: skip


@dataclass(frozen=True)
class _Shape:
    """What the messages of one ``Outgoing`` (in conversations of one organization and kind) share:
    every column but their id and conversation, and their ``message.created`` data but those two."""

    row: tuple[Any, ...]
    data: dict[str, Any]


async def queue_messages(
    session: AsyncSession,
    runtime: Runtime,
    account: WhatsAppAccount,
    sends: Sequence[tuple[Conversation | OpenedConversation, Outgoing]],
    sender: Sender,
) -> list[Queued]:
    """Store each ``(conversation, outgoing)`` as a PENDING message with its outbox row (the
    conversations are distinct, of ``account``, held by this session, or just opened by it:
    ``threads.open_outbound_threads``); answers their ids in order.

    A campaign's batch is one ``Outgoing`` to many conversations: the message it makes is built and
    serialized once (``_Shape``), then each row and event is that one with its own two ids."""
    if not sends:
        return []
    if (refusal := send_refusal(account.status)) is not None:
        raise refusal
    if any(
        outgoing.needs_window and not window_open(cast(Conversation, conversation))
        for conversation, outgoing in sends
    ):
        raise WindowClosed()
    now = utcnow()
    message_ids, outbox_ids = new_ids(len(sends)), new_ids(len(sends))
    shapes: dict[tuple[int, str, bool], _Shape] = {}
    rows, entries, created = [], [], []
    for message_id, outbox_id, (conversation, outgoing) in zip(message_ids, outbox_ids, sends, strict=True):
        org_id = conversation.organization_id
        key = (id(outgoing), org_id, conversation.origin is ConversationOrigin.SIMULATED)
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = _shape(runtime, cast(Conversation, conversation), outgoing, sender, now)
        rows.append((message_id, conversation.id, *shape.row))
        entries.append(
            (
                outbox_id,
                org_id,
                message_id,
                account.id,
                conversation.contact.wa_id,
                outgoing.graph,
                outgoing.media_storage_key,
                outgoing.template_name,
                OutboxState.QUEUED,
                0,
                now,
                False,
                now,
                now,
            )
        )
        created.append({**shape.data, "id": message_id, "conversationId": conversation.id})
    await insert_rows(session, cast(Table, Message.__table__), _MESSAGE_COLUMNS, rows)
    await insert_rows(session, cast(Table, OutboxEntry.__table__), _OUTBOX_COLUMNS, entries)
    by_preview: dict[str, list[str]] = defaultdict(list)
    for conversation, outgoing in sends:
        by_preview[outgoing.preview].append(conversation.id)
    summaries: dict[str, Any] = {}
    for preview, conversation_ids in by_preview.items():
        summaries |= await record_outbound(session, conversation_ids, now, preview)
    for conversation, _ in sends:  # the session's own conversations were given theirs
        if isinstance(conversation, OpenedConversation) and (row := summaries.get(conversation.id)):
            for name in SUMMARY_FIELDS:
                setattr(conversation, name, getattr(row, name))
    for data, (conversation, _) in zip(created, sends, strict=True):
        # an ``OpenedConversation`` has every field these read (``ConversationOut``'s)
        held = cast(Conversation, conversation)
        publish_event(session, conversation.organization_id, "message.created", data, audience(held))
        publish_conversation(session, held, "conversation.updated")
    return [Queued(m, o) for m, o in zip(message_ids, outbox_ids, strict=True)]


def _shape(
    runtime: Runtime, conversation: Conversation, outgoing: Outgoing, sender: Sender, now: Any
) -> _Shape:
    """The message ``compose.queue_message`` would store for ``outgoing`` in ``conversation`` (not
    added to the session), as the shared part of the rows and events of its kind."""
    message = compose.outbound_message(
        conversation, outgoing, sender, now, id="", is_hidden=False, created_at=now, updated_at=now
    )
    data = message_out(runtime, message).model_dump(mode="json", by_alias=True)
    return _Shape(tuple(getattr(message, c) for c in _SHARED_COLUMNS), data)
