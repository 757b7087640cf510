"""Reading campaigns: the list, one campaign with a page of recipients, statistics, CSV export."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.campaigns.repository import CampaignRepository
from cxinbox.campaigns.schemas import (
    CampaignDetail,
    CampaignDetailEnvelope,
    CampaignFilter,
    CampaignOut,
    CampaignStats,
    Counts,
    GlobalStats,
    RecipientOut,
)
from cxinbox.campaigns.views import campaign_out, recipient_out
from cxinbox.core.pagination import PageParams, paginate
from cxinbox.core.tenancy import TenantContext
from cxinbox.core.wire import iso_utc
from cxinbox.models.campaigns import Campaign

#: the export's columns, in order
CSV_COLUMNS = (
    "phone",
    "name",
    "status",
    "sentAt",
    "deliveredAt",
    "readAt",
    "repliedAt",
    "errorCode",
    "errorMessage",
)
_EXPORT_CHUNK = 5000


async def listed(
    session: AsyncSession, tenant: TenantContext, criteria: CampaignFilter, page: PageParams
) -> tuple[list[CampaignOut], int]:
    repo = CampaignRepository(session, tenant)
    campaigns, total = await paginate(session, repo.filtered(criteria), page)
    counts = await repo.counts([c.id for c in campaigns])
    return [campaign_out(c, counts[c.id]) for c in campaigns], total


async def detail(
    session: AsyncSession, tenant: TenantContext, campaign_id: str, status: str, page: PageParams
) -> CampaignDetailEnvelope:
    repo = CampaignRepository(session, tenant)
    campaign = await repo.get_or_404(campaign_id)
    recipients, total = await paginate(session, repo.recipients(campaign.id, status), page)
    out = campaign_out(campaign, (await repo.counts([campaign.id]))[campaign.id])
    return CampaignDetailEnvelope(
        data=CampaignDetail(**out.model_dump(), recipients=[recipient_out(r) for r in recipients]),
        meta=page.meta(total),
    )


def _rates(counts: Counts) -> dict[str, float]:
    def ratio(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    return {
        "delivery_rate": ratio(counts.delivered, counts.sent),
        "read_rate": ratio(counts.read, counts.delivered),
        "reply_rate": ratio(counts.replied, counts.delivered),
    }


async def stats(session: AsyncSession, tenant: TenantContext, campaign_id: str) -> CampaignStats:
    repo = CampaignRepository(session, tenant)
    campaign = await repo.get_or_404(campaign_id)
    counts = (await repo.counts([campaign.id]))[campaign.id]
    return CampaignStats(
        counts=counts,
        **_rates(counts),
        estimated_cost=float(campaign.estimated_cost),
        spent=float(campaign.spent),
    )


async def global_stats(session: AsyncSession, tenant: TenantContext) -> GlobalStats:
    repo = CampaignRepository(session, tenant)
    rows = await session.execute(
        select(Campaign.status, func.count(Campaign.id), func.coalesce(func.sum(Campaign.spent), 0))
        .where(Campaign.organization_id == tenant.organization_id)
        .group_by(Campaign.status)
    )
    by_status, spent = {}, 0.0
    for status, count, status_spent in rows:
        by_status[status.value] = int(count)
        spent += float(status_spent)
    counts = await repo.all_counts()
    return GlobalStats(
        campaigns=sum(by_status.values()), by_status=by_status, counts=counts, **_rates(counts), spent=spent
    )


def _when(value: datetime | None) -> str:
    return iso_utc(value) if value is not None else ""


async def export_rows(session: AsyncSession, tenant: TenantContext, campaign_id: str, status: str) -> str:
    """The recipients as CSV (``CSV_COLUMNS``), in request order; read in chunks."""
    repo = CampaignRepository(session, tenant)
    campaign = await repo.get_or_404(campaign_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    stmt = repo.recipients(campaign.id, status)
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    for chunk in range(math.ceil(total / _EXPORT_CHUNK)):
        for recipient in await session.scalars(stmt.limit(_EXPORT_CHUNK).offset(chunk * _EXPORT_CHUNK)):
            writer.writerows(_line(recipient_out(recipient)))
    return buffer.getvalue()


def _line(r: RecipientOut) -> Iterator[list[str]]:
    yield [
        "+" + r.phone,
        _safe(r.name or ""),
        r.status,
        _when(r.sent_at),
        _when(r.delivered_at),
        _when(r.read_at),
        _when(r.replied_at),
        r.error_code or "",
        _safe(r.error_message or ""),
    ]


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
