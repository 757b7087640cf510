"""Recipients follow their messages: the message's status (sent, delivered, read, failed, only
moving forward; a send of unknown outcome is UNKNOWN, which any later status overrides) and the
customer's reply (``repliedAt``). Registered as inbox hooks
(``messages/hooks.py``); each campaign touched gets a ``campaign.updated`` shortly after (one per
burst, debounced)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.campaigns.views import publish_campaign
from cxinbox.core.clock import utcnow
from cxinbox.core.db import locked_in_order
from cxinbox.core.jobs import Queue, enqueue_debounced, job
from cxinbox.models.campaigns import Campaign, CampaignRecipient, RecipientStatus
from cxinbox.models.inbox import Direction, Message, MessageStatus, MessageType
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound.delivery import OUTCOME_UNKNOWN
from cxinbox.whatsapp.outbound.id_sets import PerDialect, among

#: a burst of status webhooks gives one progress event per campaign after this quiet time
PROGRESS_DELAY_SECONDS = 1.0

_FOLLOWS = {
    MessageStatus.SENT: RecipientStatus.SENT,
    MessageStatus.DELIVERED: RecipientStatus.DELIVERED,
    MessageStatus.READ: RecipientStatus.READ,
    MessageStatus.FAILED: RecipientStatus.FAILED,
}
#: forward order, as the message's (a delivery or read reported after a failure wins)
_RANK = {
    RecipientStatus.PENDING: 0,
    RecipientStatus.SENDING: 0,
    RecipientStatus.UNKNOWN: 5,
    RecipientStatus.SENT: 10,
    RecipientStatus.FAILED: 15,
    RecipientStatus.DELIVERED: 20,
    RecipientStatus.READ: 30,
}
_SENT = (RecipientStatus.SENT, RecipientStatus.DELIVERED, RecipientStatus.READ)


async def follow_messages(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Move the recipients of ``messages`` forward, one UPDATE per distinct outcome (a recorded
    slice or a webhook's statuses: one or a few), never back."""
    outcomes: dict[tuple[RecipientStatus, datetime, str | None, str | None], list[str]] = defaultdict(list)
    for message in messages:
        if message.type is MessageType.TEMPLATE and (status := _FOLLOWS.get(message.status)):
            error = message.error or {}
            if status is RecipientStatus.FAILED and error.get("code") == OUTCOME_UNKNOWN:
                status = RecipientStatus.UNKNOWN
            code, text = None, None
            if status in (RecipientStatus.FAILED, RecipientStatus.UNKNOWN):
                code = str(error["code"])[:32] if error.get("code") is not None else None
                text = str(error.get("message") or "")[:2000] or None
            outcomes[status, message.status_at or utcnow(), code, text].append(message.id)
    touched: set[tuple[str, str]] = set()
    for (status, at, code, text), message_ids in outcomes.items():
        stmt, _ = _FOLLOW[status](session)
        moved = await session.execute(stmt, {"ids": message_ids, "at": at, "code": code, "text": text})
        touched |= {(row[0], row[1]) for row in moved}
    for organization_id, campaign_id in touched:
        await _progress_soon(session, organization_id, campaign_id)


def _follow(status: RecipientStatus, dialect: str) -> Any:
    """The UPDATE moving the recipients of the messages bound as ``ids`` forward to ``status``
    (at ``at``, with the error ``code`` and ``text``), built once per status and dialect."""
    behind = [s for s, rank in _RANK.items() if rank < _RANK[status]]
    return (
        update(CampaignRecipient)
        .where(
            CampaignRecipient.id.in_(
                locked_in_order(
                    CampaignRecipient.id,
                    among(CampaignRecipient.message_id, "ids", dialect),
                    CampaignRecipient.status.in_(behind),
                )
            )
        )
        .values(
            status=status,
            error_code=bindparam("code", type_=CampaignRecipient.error_code.type),
            error_message=bindparam("text", type_=CampaignRecipient.error_message.type),
            **_reached(status, bindparam("at", type_=CampaignRecipient.sent_at.type)),
        )
        .returning(CampaignRecipient.organization_id, CampaignRecipient.campaign_id)
        .execution_options(synchronize_session=False)
    )


_FOLLOW = {status: PerDialect(partial(_follow, status)) for status in _RANK}


def _reached(status: RecipientStatus, at: Any) -> dict[str, Any]:
    """The times a status moving forward sets, each kept if it was set already."""
    if status in (RecipientStatus.FAILED, RecipientStatus.UNKNOWN):
        return {}
    times = {"sent_at": func.coalesce(CampaignRecipient.sent_at, at)}
    if status in (RecipientStatus.DELIVERED, RecipientStatus.READ):
        times["delivered_at"] = func.coalesce(CampaignRecipient.delivered_at, at)
    if status is RecipientStatus.READ:
        times["read_at"] = func.coalesce(CampaignRecipient.read_at, at)
    return times


async def follow_replies(session: AsyncSession, conversation_ids: Sequence[str]) -> None:
    """The first reply after a campaign's message reached the customer marks its recipient."""
    sent_in = (
        select(Message.id)
        .where(
            Message.conversation_id.in_(list(conversation_ids)),
            Message.direction == Direction.OUTBOUND,
            Message.type == MessageType.TEMPLATE,
        )
        .scalar_subquery()
    )
    replied = await session.execute(
        update(CampaignRecipient)
        .where(
            CampaignRecipient.message_id.in_(sent_in),
            CampaignRecipient.replied_at.is_(None),
            CampaignRecipient.status.in_(_SENT),
        )
        .values(replied_at=utcnow())
        .returning(CampaignRecipient.organization_id, CampaignRecipient.campaign_id)
        .execution_options(synchronize_session=False)
    )
    for organization_id, campaign_id in {(row[0], row[1]) for row in replied}:
        await _progress_soon(session, organization_id, campaign_id)


async def _progress_soon(session: AsyncSession, organization_id: str, campaign_id: str) -> None:
    await enqueue_debounced(
        session,
        publish_progress,
        key=campaign_id,
        delay=PROGRESS_DELAY_SECONDS,
        max_wait=PROGRESS_DELAY_SECONDS * 5,
        organization_id=organization_id,
        campaign_id=campaign_id,
    )


@job("campaigns.progress", queue=Queue.BULK, attempts=3)
async def publish_progress(
    runtime: Runtime, session: AsyncSession, organization_id: str, campaign_id: str
) -> None:
    campaign = await session.scalar(
        select(Campaign).where(Campaign.organization_id == organization_id, Campaign.id == campaign_id)
    )
    if campaign is not None:
        await publish_campaign(session, campaign)
