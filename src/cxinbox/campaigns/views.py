"""Campaigns and recipients as the API shows them, and the ``campaign.updated`` event."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.campaigns.repository import CampaignRepository
from cxinbox.campaigns.schemas import CampaignOut, Counts, RecipientOut
from cxinbox.core.events import publish_event
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.campaigns import Campaign, CampaignRecipient, RecipientStatus

CAMPAIGN_UPDATED = "campaign.updated"


def campaign_out(campaign: Campaign, counts: Counts) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        template_id=campaign.template_id,
        whatsapp_account_id=campaign.whatsapp_account_id,
        language=campaign.language,
        variables=campaign.variables,
        status=campaign.status,
        waiting_reason=campaign.status_reason,
        scheduled_at=campaign.scheduled_at,
        counts=counts,
        estimated_cost=float(campaign.estimated_cost),
        budget=float(campaign.budget) if campaign.budget is not None else None,
        spent=float(campaign.spent),
        created_by=campaign.created_by_id,
        created_at=campaign.created_at,
        started_at=campaign.started_at,
        completed_at=campaign.completed_at,
    )


def recipient_out(recipient: CampaignRecipient) -> RecipientOut:
    status = RecipientStatus.PENDING if recipient.status is RecipientStatus.SENDING else recipient.status
    return RecipientOut(
        id=recipient.id,
        phone=recipient.phone,
        name=recipient.name,
        variables=recipient.variables,
        status=status.value,
        cost=float(recipient.cost),
        message_id=recipient.message_id,
        sent_at=recipient.sent_at,
        delivered_at=recipient.delivered_at,
        read_at=recipient.read_at,
        replied_at=recipient.replied_at,
        error_code=recipient.error_code,
        error_message=recipient.error_message,
    )


async def described(session: AsyncSession, campaign: Campaign) -> CampaignOut:
    repo = CampaignRepository(session, TenantContext.system(campaign.organization_id))
    return campaign_out(campaign, (await repo.counts([campaign.id]))[campaign.id])


async def publish_campaign(session: AsyncSession, campaign: Campaign, counts: Counts | None = None) -> None:
    """``campaign.updated`` with the campaign and its counts (read unless given), after the
    transaction commits."""
    await session.flush()
    out = campaign_out(campaign, counts) if counts is not None else await described(session, campaign)
    data = out.model_dump(mode="json", by_alias=True)
    publish_event(session, campaign.organization_id, CAMPAIGN_UPDATED, data)
