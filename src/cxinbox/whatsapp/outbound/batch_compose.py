"""Writing many outbound messages at once (a campaign's batch): what ``compose.queue_message`` does
for one, in a few statements whatever their number.

The messages (PENDING, one per conversation) and their outbox rows are inserted in one statement
each, the conversations' summaries moved forward in one UPDATE per distinct preview, and the
``message.created`` / ``conversation.updated`` events published from what was written (nothing is
read back). Nothing is sent here: the caller hands the outbox rows to ``batch_delivery`` after its
commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations.events import publish_conversation
from cxinbox.conversations.summary import record_outbound
from cxinbox.core.bulk_rows import insert_rows
from cxinbox.core.clock import utcnow
from cxinbox.core.ids import new_ids
from cxinbox.messages.events import publish_message
from cxinbox.models.inbox import Conversation, Message
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound import compose
from cxinbox.whatsapp.outbound.compose import Outgoing, Sender, WindowClosed, window_open
from cxinbox.whatsapp.outbound.refusal import send_refusal


@dataclass(frozen=True)
class Queued:
    message_id: str
    outbox_id: str


_MESSAGE_COLUMNS = (
    "id", "organization_id", "conversation_id", "direction", "sender_type", "sender_user_id", "type",
    "text", "media", "payload", "status", "ordered_at", "context", "reply_to_wa_message_id",
    "reaction_to_wa_message_id", "reaction", "is_hidden", "simulated", "created_at", "updated_at",
)  # fmt: skip
_OUTBOX_COLUMNS = (
    "id", "organization_id", "message_id", "whatsapp_account_id", "recipient", "payload",
    "media_storage_key", "template_name", "state", "attempts", "next_attempt_at", "permanent",
    "created_at", "updated_at",
)  # fmt: skip


async def queue_messages(
    session: AsyncSession,
    runtime: Runtime,
    account: WhatsAppAccount,
    sends: Sequence[tuple[Conversation, Outgoing]],
    sender: Sender,
) -> list[Queued]:
    """Store each ``(conversation, outgoing)`` as a PENDING message with its outbox row (the
    conversations are distinct, of ``account``, held by this session); answers their ids in order."""
    if not sends:
        return []
    if (refusal := send_refusal(account.status)) is not None:
        raise refusal
    if any(outgoing.needs_window and not window_open(conversation) for conversation, outgoing in sends):
        raise WindowClosed()
    now = utcnow()
    message_ids, outbox_ids = new_ids(len(sends)), new_ids(len(sends))
    messages, entries = [], []
    for message_id, outbox_id, (conversation, outgoing) in zip(message_ids, outbox_ids, sends, strict=True):
        message = _message(message_id, conversation, outgoing, sender, now)
        messages.append(message)
        entries.append(
            (
                outbox_id,
                conversation.organization_id,
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
            )  # fmt: skip
        )
    await insert_rows(
        session,
        cast(Table, Message.__table__),
        _MESSAGE_COLUMNS,
        [tuple(getattr(m, c) for c in _MESSAGE_COLUMNS) for m in messages],
    )
    await insert_rows(session, cast(Table, OutboxEntry.__table__), _OUTBOX_COLUMNS, entries)
    by_preview: dict[str, list[str]] = defaultdict(list)
    for conversation, outgoing in sends:
        by_preview[outgoing.preview].append(conversation.id)
    for preview, conversation_ids in by_preview.items():
        await record_outbound(session, conversation_ids, now, preview)
    for message, (conversation, _) in zip(messages, sends, strict=True):
        publish_message(session, runtime, conversation, message, "message.created")
        publish_conversation(session, conversation, "conversation.updated")
    return [Queued(m, o) for m, o in zip(message_ids, outbox_ids, strict=True)]


def _message(
    message_id: str, conversation: Conversation, outgoing: Outgoing, sender: Sender, now: Any
) -> Message:
    """The message as ``compose.queue_message`` stores it (not added to the session: it is inserted
    in bulk, and serves the event)."""
    return compose.outbound_message(
        conversation, outgoing, sender, now, id=message_id, is_hidden=False, created_at=now, updated_at=now
    )
