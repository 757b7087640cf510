"""``POST /campaigns/bulk``: pause, resume, cancel or delete campaigns chosen by ids or by filter
(``status``). Each change is a compare-and-set on the campaign's status, so it holds against a
dispatch step running at the same time (which locks the same row). A campaign whose status does not
allow the action is reported in ``failed`` with ``CONFLICT``; a RUNNING campaign cannot be deleted
(pause or cancel it first)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.campaigns.dispatch import schedule_dispatch
from cxinbox.campaigns.repository import CampaignRepository
from cxinbox.campaigns.schemas import BulkCampaigns, CampaignFilter
from cxinbox.campaigns.views import publish_campaign
from cxinbox.core.bulk import MAX_BULK_IDS, BulkFailure, BulkResult, select_items
from cxinbox.core.clock import utcnow
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.campaigns import Campaign, CampaignStatus

S = CampaignStatus
#: action -> (statuses it applies to, what it explains when it does not)
_FROM: dict[str, tuple[frozenset[CampaignStatus], str]] = {
    "pause": (frozenset({S.RUNNING, S.SCHEDULED}), "Only a RUNNING or SCHEDULED campaign can be paused"),
    "resume": (frozenset({S.PAUSED}), "Only a PAUSED campaign can be resumed"),
    "cancel": (frozenset({S.RUNNING, S.SCHEDULED, S.PAUSED}), "The campaign has already ended"),
    "delete": (
        frozenset({S.SCHEDULED, S.PAUSED, S.COMPLETED, S.CANCELLED, S.FAILED}),
        "A RUNNING campaign cannot be deleted: pause or cancel it first",
    ),
}


async def run(session: AsyncSession, tenant: TenantContext, body: BulkCampaigns) -> BulkResult:
    repo = CampaignRepository(session, tenant)

    async def by_filter(criteria: CampaignFilter) -> list[Campaign]:
        return list(await repo.list(repo.filtered(criteria).limit(MAX_BULK_IDS)))

    ids, campaigns = await select_items(
        body.selection, by_ids=repo.by_ids, filter_model=CampaignFilter, by_filter=by_filter
    )
    result = BulkResult(action=body.action, requested=len(ids), succeeded=0)
    allowed, refusal = _FROM[body.action]
    for campaign_id in ids:
        if campaign_id not in campaigns:
            result.failed.append(BulkFailure(id=campaign_id, code="NOT_FOUND", message="Campaign not found"))
        elif await _apply(session, tenant, campaign_id, body, allowed):
            result.succeeded += 1
            result.succeeded_ids.append(campaign_id)
        else:
            result.failed.append(BulkFailure(id=campaign_id, code="CONFLICT", message=refusal))
    return result


async def _apply(
    session: AsyncSession,
    tenant: TenantContext,
    campaign_id: str,
    body: BulkCampaigns,
    allowed: frozenset[CampaignStatus],
) -> bool:
    scope = (
        Campaign.organization_id == tenant.organization_id,
        Campaign.id == campaign_id,
        Campaign.status.in_(allowed),
    )
    if body.action == "delete":
        deleted = await session.execute(delete(Campaign).where(*scope).returning(Campaign.id))
        return deleted.first() is not None
    now = utcnow()
    values: dict[str, object] = {"updated_at": now}
    if body.action == "pause":
        values |= {"status": S.PAUSED, "status_reason": None}
    elif body.action == "cancel":
        values |= {"status": S.CANCELLED, "status_reason": None, "completed_at": now}
    else:
        values |= {"status": S.RUNNING, "status_reason": None}
        if body.budget is not None:
            values["budget"] = Decimal(str(body.budget))
    changed = await session.execute(
        update(Campaign)
        .where(*scope)
        .values(**values)
        .returning(Campaign.id)
        .execution_options(synchronize_session=False)
    )
    if changed.first() is None:
        return False
    campaign = await session.scalar(
        select(Campaign).where(Campaign.id == campaign_id).execution_options(populate_existing=True)
    )
    assert campaign is not None
    if body.action == "resume":
        if campaign.started_at is None and campaign.scheduled_at is not None and campaign.scheduled_at > now:
            campaign.status, campaign.status_reason = S.SCHEDULED, "SCHEDULED"
        await schedule_dispatch(session, campaign, 0.0)
    await publish_campaign(session, campaign)
    return True
