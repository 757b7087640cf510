"""Delivery statuses: every one kept, the message's current status only moving forward.

Meta does not guarantee order (``delivered`` may arrive after ``read`` or ``failed``) and a status can
arrive before the send's response stored the wamid. Each status is stored once (unique wamid, status
and time); one whose message is not known yet waits, unapplied, and ``apply_pending_statuses`` folds
it in when the message gets its wamid. A status carrying the callback key of a send whose answer was
never recorded first gives that message its wamid (``unrecorded_sends``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations.events import audience_of
from cxinbox.core.clock import utcnow
from cxinbox.core.db import insert_new_rows
from cxinbox.messages.events import publish_message_updated, publish_messages_updated_to
from cxinbox.models.inbox import Conversation, Message, MessageStatus, MessageStatusEvent
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.parse import first_error, provider_time
from cxinbox.whatsapp.inbound.unrecorded_sends import adopt_unrecorded_sends

#: Meta's status -> ours; ``played`` (a voice message was listened to) implies read
STATUS_OF = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "played": MessageStatus.READ,
    "failed": MessageStatus.FAILED,
}

#: Forward order. FAILED sits between SENT and DELIVERED: a failure overrides "sent", while a later
#: delivery or read (proof the message arrived) overrides a failure that was reported out of order.
RANK = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.PENDING: 0,
    MessageStatus.SENT: 10,
    MessageStatus.FAILED: 15,
    MessageStatus.DELIVERED: 20,
    MessageStatus.READ: 30,
}


#: (organization id, one object of Meta's ``statuses`` array)
StatusReport = tuple[str, dict[str, Any]]


async def record_statuses(session: AsyncSession, runtime: Runtime, reports: Sequence[StatusReport]) -> None:
    """Store each status once (a replay changes nothing) and fold the new ones into their messages
    in the order they came; one ``message.updated`` per message that changed. The messages are read
    and locked in one query, the statuses stored in one insert."""
    rows: dict[tuple[str, str, datetime], dict[str, Any]] = {}
    for organization_id, status in reports:
        if status.get("id") and status.get("status"):
            row = _row(organization_id, status)
            rows.setdefault((row["wa_message_id"], row["status"], row["provider_timestamp"]), row)
    if not rows:
        return
    await adopt_unrecorded_sends(session, reports)
    messages, audiences = await _messages_for_update(
        session, [(r["organization_id"], r["wa_message_id"]) for r in rows.values()]
    )
    now = utcnow()
    for row in rows.values():  # a status of a known message is applied as it is stored
        message = messages.get((row["organization_id"], row["wa_message_id"]))
        row["message_id"] = message.id if message else None
        row["applied_at"] = now if message else None
    stored = {
        (e.wa_message_id, e.status, e.provider_timestamp): e
        for e in await insert_new_rows(session, MessageStatusEvent, list(rows.values()))
    }
    changed: dict[str, Message] = {}
    for key, row in rows.items():
        event, message = stored.get(key), messages.get((row["organization_id"], row["wa_message_id"]))
        if event is not None and message is not None and _apply(message, event):
            changed[message.id] = message
    if changed:
        await session.flush()  # the events carry what the flush stamps (``updatedAt``)
        await publish_messages_updated_to(session, runtime, [(m, audiences[m.id]) for m in changed.values()])


def _row(organization_id: str, status: dict[str, Any]) -> dict[str, Any]:
    pricing = status.get("pricing")
    return {
        "organization_id": organization_id,
        "wa_message_id": str(status["id"]),
        "status": str(status["status"])[:16],
        "provider_timestamp": provider_time(status.get("timestamp")),
        "recipient_id": status.get("recipient_id"),
        "errors": status.get("errors"),
        "pricing": pricing if isinstance(pricing, dict) else None,
        "conversation": status.get("conversation"),
    }


async def apply_pending_statuses(session: AsyncSession, runtime: Runtime, message: Message) -> bool:
    """Fold in the statuses that arrived before ``message`` had its wamid (call after setting it).
    True when one changed the message (a ``message.updated`` event is then published)."""
    if not message.wa_message_id:
        return False
    pending = await session.scalars(
        select(MessageStatusEvent)
        .where(
            MessageStatusEvent.organization_id == message.organization_id,
            MessageStatusEvent.wa_message_id == message.wa_message_id,
            MessageStatusEvent.applied_at.is_(None),
        )
        .order_by(MessageStatusEvent.provider_timestamp)
    )
    changed = False
    for event in pending:
        event.message_id = message.id
        changed |= _apply(message, event)
    if changed:
        await publish_message_updated(session, runtime, message)
    return changed


def _apply(message: Message, event: MessageStatusEvent) -> bool:
    """Fold one status into the message; True if the message changed."""
    event.applied_at = event.applied_at or utcnow()
    changed = False
    pricing_category = (event.pricing or {}).get("category")
    if pricing_category and message.pricing_category != pricing_category:
        message.pricing_category = str(pricing_category)[:32]
        changed = True
    new_status = STATUS_OF.get(event.status)
    if new_status is None or RANK[new_status] <= RANK.get(message.status, 0):
        return changed
    message.status = new_status
    message.status_at = event.provider_timestamp
    if new_status is MessageStatus.FAILED:
        message.error = first_error(event.errors) or {
            "code": None,
            "message": "Meta reported the send as failed",
        }
    return True


async def _messages_for_update(
    session: AsyncSession, wamids: Collection[tuple[str, str]]
) -> tuple[dict[tuple[str, str], Message], dict[str, dict[str, Any]]]:
    """The messages of ``(organization id, wamid)`` pairs that exist, locked in id order, and by
    message id the audience of its conversation (read along: its ``message.updated`` reads none)."""
    by_org: dict[str, set[str]] = defaultdict(set)
    for organization_id, wamid in wamids:
        by_org[organization_id].add(wamid)
    found: dict[tuple[str, str], Message] = {}
    audiences: dict[str, dict[str, Any]] = {}
    for organization_id, org_wamids in by_org.items():
        stmt = (
            select(Message, Conversation.assigned_to_id, Conversation.team_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.organization_id == organization_id, Message.wa_message_id.in_(list(org_wamids)))
            .order_by(Message.id)
            .with_for_update(of=Message)
            .execution_options(populate_existing=True)
        )
        for message, assigned_to_id, team_id in await session.execute(stmt):
            found[organization_id, str(message.wa_message_id)] = message
            audiences[message.id] = audience_of(message.conversation_id, assigned_to_id, team_id)
    return found, audiences
