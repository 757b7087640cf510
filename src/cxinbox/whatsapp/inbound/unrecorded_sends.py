"""Sends whose answer was never recorded, resolved by Meta's status webhooks.

Every send request carries its outbox row's callback key in ``biz_opaque_callback_data``, which Meta
echoes in each status webhook of that message. A worker that died after Meta accepted a message but
before it stored the answer leaves its outbox row SENDING (UNKNOWN once the reconciliation window
passed) and the message without a wamid: the first status carrying the key gives the message its
wamid and marks the row SENT, so the status then applies as any other. Nothing is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.models.inbox import Message, MessageStatus
from cxinbox.models.outbound import OutboxEntry, OutboxState

log = structlog.get_logger(__name__)

CALLBACK_PREFIX = "cxinbox-outbox:"
#: an outbox row's id, as written by ``callback_key``
_ID_LENGTH = 36


def callback_key(outbox_id: str) -> str:
    """What a send request carries in ``biz_opaque_callback_data`` (Meta allows 512 characters)."""
    return CALLBACK_PREFIX + outbox_id


def outbox_id_of(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(CALLBACK_PREFIX):
        outbox_id = value[len(CALLBACK_PREFIX) :]
        return outbox_id if 0 < len(outbox_id) <= _ID_LENGTH else None
    return None


async def adopt_unrecorded_sends(
    session: AsyncSession, reports: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """Give the wamid of each ``(organization id, status)`` that carries a callback key to its
    message, when that message's send was never recorded (its row SENDING or UNKNOWN, no wamid).
    A key naming another organization's row is ignored."""
    wanted: dict[tuple[str, str], str] = {}
    for organization_id, status in reports:
        outbox_id = outbox_id_of(status.get("biz_opaque_callback_data"))
        if outbox_id is not None and status.get("id"):
            wanted.setdefault((organization_id, outbox_id), str(status["id"]))
    if not wanted:
        return
    rows = await session.execute(
        select(OutboxEntry, Message)
        .join(Message, Message.id == OutboxEntry.message_id)
        .where(
            OutboxEntry.id.in_({outbox_id for _, outbox_id in wanted}),
            OutboxEntry.state.in_((OutboxState.SENDING, OutboxState.UNKNOWN)),
            Message.wa_message_id.is_(None),
        )
        .order_by(OutboxEntry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    now = utcnow()
    for entry, message in rows:
        wamid = wanted.get((entry.organization_id, entry.id))
        if wamid is None:
            continue
        if entry.state is OutboxState.UNKNOWN:
            # it was reported as of unknown outcome: Meta's word replaces that report
            message.status, message.status_at, message.error = MessageStatus.PENDING, now, None
        entry.state, entry.sent_at, entry.locked_until = OutboxState.SENT, now, None
        entry.attempts += 1
        entry.last_error, entry.permanent = None, False
        message.wa_message_id = wamid
        log.info("whatsapp_send_reconciled", message_id=message.id, outbox_id=entry.id)
    await session.flush()
