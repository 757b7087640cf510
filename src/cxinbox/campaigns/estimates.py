"""What a campaign will cost before it is sent, by the rate card (see ``pricing``)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.campaigns.pricing import RateCard, rate_card
from cxinbox.campaigns.recipients import free_inside_window, normalise
from cxinbox.campaigns.schemas import CountryCost, Estimate, EstimateRequest, MarketRates, Pricing
from cxinbox.core.errors import NotFound
from cxinbox.models.templates import MessageTemplate, TemplateCategory, TemplateStatus
from cxinbox.runtime import Runtime
from cxinbox.templates.repository import TemplateRepository


def card_of(runtime: Runtime) -> RateCard:
    return rate_card(runtime.settings.rate_card_path)


def pricing(runtime: Runtime) -> Pricing:
    card = card_of(runtime)
    return Pricing(
        currency=card.currency,
        effective_date=card.effective_date,
        source=card.source,
        markets=[
            MarketRates(
                market=market,
                marketing=float(rates[TemplateCategory.MARKETING]),
                utility=float(rates[TemplateCategory.UTILITY]),
                authentication=float(rates[TemplateCategory.AUTHENTICATION]),
            )
            for market, rates in sorted(card.rates.items())
        ],
        countries={prefix: {"country": m.country, "market": m.market} for prefix, m in card.prefixes.items()},
    )


async def live_template(session: AsyncSession, principal: Principal, template_id: str) -> MessageTemplate:
    template = await TemplateRepository(session, principal.tenant).get_or_404(template_id)
    if template.status is TemplateStatus.REMOVED:
        raise NotFound("Template not found")
    return template


async def estimate(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: EstimateRequest
) -> Estimate:
    template = await live_template(session, principal, body.template_id)
    card = card_of(runtime)
    given = normalise(body.recipients)
    wa_ids = given.wa_ids
    free = await free_inside_window(session, principal.tenant, card, template, wa_ids)
    sent: Counter[tuple[str, str]] = Counter()
    free_of_charge: Counter[tuple[str, str]] = Counter()
    for wa_id, place in zip(wa_ids, card.markets_of(wa_ids), strict=True):
        sent[place.country, place.market] += 1
        if wa_id in free:
            free_of_charge[place.country, place.market] += 1
    rows = []
    for (country, market), count in sorted(sent.items()):
        rate = card.rate(market, template.category)
        charged = count - free_of_charge[country, market]
        rows.append(
            CountryCost(
                country=country,
                market=market,
                count=count,
                free=count - charged,
                rate=float(rate),
                cost=float(rate * charged),
            )
        )
    total = sum((Decimal(str(r.rate)) * (r.count - r.free) for r in rows), Decimal(0))
    return Estimate(
        total=float(total),
        currency=card.currency,
        billable=sum(r.count - r.free for r in rows),
        by_country=rows,
        category=template.category,
        effective_date=card.effective_date,
        invalid=given.invalid,
    )
