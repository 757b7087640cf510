"""Delivery statuses: every one kept, the message's current status only moving forward.

Meta does not guarantee order (``delivered`` may arrive after ``read`` or ``failed``) and a status can
arrive before the send's response stored the wamid. Each status is stored once (unique wamid, status
and time); one whose message is not known yet waits, unapplied, and ``apply_pending_statuses`` folds
it in when the message gets its wamid.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.db import insert_new
from cxinbox.models.inbox import Message, MessageStatus, MessageStatusEvent
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.parse import first_error, provider_time
from cxinbox.whatsapp.inbound.threads import publish_message_updated

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


async def record_status(
    session: AsyncSession, runtime: Runtime, organization_id: str, status: dict[str, Any]
) -> None:
    wamid = status.get("id")
    if not wamid or not status.get("status"):
        return
    message = await _message_for_update(session, organization_id, str(wamid))
    pricing = status.get("pricing") if isinstance(status.get("pricing"), dict) else None
    event_id = await insert_new(
        session,
        MessageStatusEvent,
        organization_id=organization_id,
        wa_message_id=str(wamid),
        message_id=message.id if message else None,
        status=str(status["status"])[:16],
        provider_timestamp=provider_time(status.get("timestamp")),
        recipient_id=status.get("recipient_id"),
        errors=status.get("errors"),
        pricing=pricing,
        conversation=status.get("conversation"),
    )
    if event_id is None or message is None:
        return  # a replay of a stored status, or one that waits for its message
    event = await session.get_one(MessageStatusEvent, event_id)
    if _apply(message, event):
        await publish_message_updated(session, runtime, message)


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
    event.applied_at = utcnow()
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


async def _message_for_update(session: AsyncSession, organization_id: str, wamid: str) -> Message | None:
    stmt = (
        select(Message)
        .where(Message.organization_id == organization_id, Message.wa_message_id == wamid)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt)
