"""Recipients follow their messages: the message's status (sent, delivered, read, failed, only
moving forward; a send of unknown outcome is UNKNOWN, which any later status overrides) and the
customer's reply (``repliedAt``). Registered as inbox hooks
(``messages/hooks.py``); each campaign touched gets a ``campaign.updated`` shortly after (one per
burst, debounced)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.campaigns.views import publish_campaign
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import Queue, enqueue_debounced, job
from cxinbox.models.campaigns import Campaign, CampaignRecipient, RecipientStatus
from cxinbox.models.inbox import Direction, Message, MessageStatus, MessageType
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound.delivery import OUTCOME_UNKNOWN

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
    by_id = {m.id: m for m in messages if m.type is MessageType.TEMPLATE}
    if not by_id:
        return
    recipients = await session.scalars(
        select(CampaignRecipient).where(CampaignRecipient.message_id.in_(list(by_id)))
    )
    touched: set[tuple[str, str]] = set()
    for recipient in recipients:
        if _follow(recipient, by_id[str(recipient.message_id)]):
            touched.add((recipient.organization_id, recipient.campaign_id))
    for organization_id, campaign_id in touched:
        await _progress_soon(session, organization_id, campaign_id)


def _follow(recipient: CampaignRecipient, message: Message) -> bool:
    status = _FOLLOWS.get(message.status)
    if status is RecipientStatus.FAILED and (message.error or {}).get("code") == OUTCOME_UNKNOWN:
        status = RecipientStatus.UNKNOWN
    if status is None or _RANK[status] <= _RANK[recipient.status]:
        return False
    at = message.status_at or utcnow()
    recipient.status = status
    if status in (RecipientStatus.FAILED, RecipientStatus.UNKNOWN):
        error = message.error or {}
        recipient.error_code = str(error.get("code"))[:32] if error.get("code") is not None else None
        recipient.error_message = str(error.get("message") or "")[:2000] or None
        return True
    recipient.error_code = recipient.error_message = None
    recipient.sent_at = recipient.sent_at or at
    if status in (RecipientStatus.DELIVERED, RecipientStatus.READ):
        recipient.delivered_at = recipient.delivered_at or at
    if status is RecipientStatus.READ:
        recipient.read_at = recipient.read_at or at
    return True


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
