"""What Meta really charged, from its ``pricing_analytics`` (per-message pricing since July 2025:
``conversation_analytics`` no longer describes the bill), cached for an hour per account and period.

``GET /campaigns/meta-costs``: the last 90 days (Meta's lookback) of every account of the
organization, by pricing category and by country. A campaign's cost is an approximation: Meta does
not report per template, so it is the account's cost for the template's category over the days the
campaign ran.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.whatsapp import GraphClient, GraphError
from cxinbox.campaigns.repository import CampaignRepository
from cxinbox.campaigns.schemas import AccountCosts, CampaignMetaCost, CostLine, MetaCosts, TemplateCosts
from cxinbox.core.cache import TimedValue
from cxinbox.core.clock import utcnow
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.campaigns import Campaign, CampaignRecipient, RecipientStatus
from cxinbox.models.templates import MessageTemplate
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime

LOOKBACK = timedelta(days=90)
CACHE_SECONDS = 3600.0
_MAX_CACHED = 1000
Points = tuple[str | None, list[dict[str, Any]]]
_cache: dict[tuple[str, str, date, date], TimedValue[Points]] = {}


async def _points(runtime: Runtime, account: WhatsAppAccount, since: date, until: date) -> Points:
    """Meta's daily points by category and country for ``[since, until]`` (whole UTC days)."""
    key = (account.organization_id, account.id, since, until)
    cached = _cache.get(key)
    if cached is None:
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        cached = _cache[key] = TimedValue(CACHE_SECONDS)
    start = int(datetime.combine(since, time(), UTC).timestamp())
    end = int(datetime.combine(until + timedelta(days=1), time(), UTC).timestamp())
    token = (
        runtime.secrets.decrypt(account.access_token_encrypted) if account.access_token_encrypted else None
    )

    async def read() -> Points:
        async with GraphClient(runtime.settings.meta, token) as graph:
            return await graph.pricing_analytics(account.waba_id, start, end, ("PRICING_CATEGORY", "COUNTRY"))

    return await cached.get(read)


def _lines(points: Sequence[dict[str, Any]], field: str) -> list[CostLine]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for point in points:
        line = sums[str(point.get(field) or "UNKNOWN")]
        line[0] += _number(point.get("volume"))
        line[1] += _number(point.get("cost"))
    return [CostLine(key=k, volume=int(v), cost=round(c, 4)) for k, (v, c) in sorted(sums.items())]


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


async def _account_costs(
    runtime: Runtime, account: WhatsAppAccount, since: date, until: date
) -> AccountCosts:
    try:
        currency, points = await _points(runtime, account, since, until)
        error = None
    except GraphError as exc:
        currency, points, error = None, [], exc.message
    by_category = _lines(points, "pricing_category")
    return AccountCosts(
        whatsapp_account_id=account.id,
        waba_id=account.waba_id,
        currency=currency,
        volume=sum(line.volume for line in by_category),
        total=round(sum(line.cost for line in by_category), 4),
        by_category=by_category,
        by_country=_lines(points, "country"),
        error=error,
    )


async def organization_costs(session: AsyncSession, runtime: Runtime, tenant: TenantContext) -> MetaCosts:
    until = utcnow().date()
    since = until - LOOKBACK
    accounts = await session.scalars(
        select(WhatsAppAccount).where(WhatsAppAccount.organization_id == tenant.organization_id)
    )
    costs = [await _account_costs(runtime, account, since, until) for account in accounts]
    currencies = {c.currency for c in costs if c.currency}
    return MetaCosts(
        since=since,
        until=until,
        currency=currencies.pop() if len(currencies) == 1 else None,
        total=round(sum(c.total for c in costs), 4),
        accounts=costs,
        templates=await _templates(session, tenant, since),
    )


async def _templates(session: AsyncSession, tenant: TenantContext, since: date) -> list[TemplateCosts]:
    stmt = (
        select(
            MessageTemplate,
            func.count(CampaignRecipient.id),
            func.coalesce(func.sum(CampaignRecipient.cost), 0),
        )
        .join(Campaign, Campaign.template_id == MessageTemplate.id)
        .join(CampaignRecipient, CampaignRecipient.campaign_id == Campaign.id)
        .where(
            Campaign.organization_id == tenant.organization_id,
            CampaignRecipient.status.in_(
                (RecipientStatus.SENT, RecipientStatus.DELIVERED, RecipientStatus.READ)
            ),
            CampaignRecipient.sent_at >= datetime.combine(since, time(), UTC),
        )
        .group_by(MessageTemplate.id)
        .order_by(MessageTemplate.name, MessageTemplate.language)
    )
    return [
        TemplateCosts(
            template_id=t.id,
            name=t.name,
            language=t.language,
            category=t.category,
            sent=int(sent),
            estimated_cost=float(Decimal(str(cost))),
        )
        for t, sent, cost in await session.execute(stmt)
    ]


async def campaign_cost(
    session: AsyncSession, runtime: Runtime, tenant: TenantContext, campaign_id: str
) -> CampaignMetaCost:
    campaign = await CampaignRepository(session, tenant).get_or_404(campaign_id)
    template = await session.get(MessageTemplate, campaign.template_id) if campaign.template_id else None
    account = await session.get_one(WhatsAppAccount, campaign.whatsapp_account_id)
    since = (campaign.started_at or campaign.created_at).date()
    until = (campaign.completed_at or utcnow()).date()
    category = template.category if template is not None else None
    costs = await _account_costs(runtime, account, since, max(since, until))
    line = next((c for c in costs.by_category if category is not None and c.key == category.value), None)
    return CampaignMetaCost(
        campaign_id=campaign.id,
        since=since,
        until=max(since, until),
        currency=costs.currency,
        category=category,
        meta_cost=line.cost if line else 0.0,
        meta_volume=line.volume if line else 0,
        estimated_cost=float(campaign.estimated_cost),
        spent=float(campaign.spent),
    )
