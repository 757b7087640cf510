"""``POST /campaigns``: check everything, store the campaign and its recipients, start or schedule it.

Nothing is stored unless every value fits the template (each distinct set of values is checked
once: a campaign of 100,000 recipients sharing the campaign's values checks one). Recipients are
normalised and de-duplicated (the first occurrence wins), invalid numbers reported by index, and
stored in one statement (``recipient_rows``), each with its price by the rate card (free where Meta
charges nothing: a utility template to a number inside its 24-hour window).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import chain

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.campaigns.dispatch import schedule_dispatch
from cxinbox.campaigns.estimates import card_of, live_template
from cxinbox.campaigns.recipient_rows import NewRecipients, store
from cxinbox.campaigns.recipients import Normalised, free_inside_window, normalise
from cxinbox.campaigns.schemas import CampaignCreate, CampaignCreated, Counts
from cxinbox.campaigns.views import campaign_out, publish_campaign
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import Conflict, ValidationFailed
from cxinbox.core.ids import new_id
from cxinbox.models.campaigns import Campaign, CampaignStatus
from cxinbox.models.identity import Organization
from cxinbox.models.templates import MessageTemplate, TemplateStatus
from cxinbox.plans.limits import CAMPAIGNS, ensure_within_limit
from cxinbox.runtime import Runtime
from cxinbox.templates.schemas import TemplateVariables
from cxinbox.templates.sending import outgoing


class TemplateNotApproved(Conflict):
    code = "TEMPLATE_NOT_APPROVED"
    message = "Only an APPROVED template can be sent to a campaign's recipients"


async def create(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: CampaignCreate
) -> CampaignCreated:
    template = await live_template(session, principal, body.template_id)
    if template.status is not TemplateStatus.APPROVED:
        raise TemplateNotApproved()
    organization = await session.get_one(Organization, principal.tenant.organization_id)
    await ensure_within_limit(session, organization, CAMPAIGNS)
    given = normalise(body.recipients)
    if not given.wa_ids:
        raise ValidationFailed.field(
            "recipients", "no valid number (international numbers, e.g. +5511999990000)"
        )
    shared = body.variables or TemplateVariables()
    await _check_values(session, runtime, template, shared, given)
    now = utcnow()
    scheduled = body.scheduled_at is not None and body.scheduled_at > now
    campaign = Campaign(
        id=new_id(),
        organization_id=principal.tenant.organization_id,
        name=body.name,
        template_id=template.id,
        whatsapp_account_id=template.whatsapp_account_id,
        language=template.language,
        variables=shared.model_dump(mode="json"),
        status=CampaignStatus.SCHEDULED if scheduled else CampaignStatus.RUNNING,
        status_reason="SCHEDULED" if scheduled else None,
        scheduled_at=body.scheduled_at,
        started_at=None if scheduled else now,
        total=len(given.wa_ids),
        budget=Decimal(str(body.budget)) if body.budget is not None else None,
        spent=Decimal(0),
        created_by_id=principal.user_id,
    )
    session.add(campaign)
    await session.flush()
    campaign.estimated_cost = await _insert_recipients(session, runtime, principal, template, campaign, given)
    await schedule_dispatch(session, campaign, _delay(campaign.scheduled_at, now) if scheduled else 0.0)
    # every recipient is PENDING: the counts need no query over them
    total = len(given.wa_ids)
    counts = Counts(total=total, pending=total, sent=0, delivered=0, read=0, failed=0, unknown=0, replied=0)
    await publish_campaign(session, campaign, counts)
    out = campaign_out(campaign, counts)
    return CampaignCreated(
        **out.model_dump(),
        invalid=given.invalid,
        duplicates=len(body.recipients) - len(given.wa_ids) - len(given.invalid),
    )


def _delay(at: datetime | None, now: datetime) -> float:
    return max(0.0, (at - now).total_seconds()) if at is not None else 0.0


async def _check_values(
    session: AsyncSession,
    runtime: Runtime,
    template: MessageTemplate,
    shared: TemplateVariables,
    given: Normalised,
) -> None:
    """Every distinct set of values against the template; 400 naming the first recipient whose
    values do not fit (``recipients[i].variables…``), or the campaign's own ``variables``."""
    checked: set[str] = set()
    own = ((i, r.variables) for i, r in zip(given.indexes, given.recipients, strict=True) if r.variables)
    for index, values in chain([(None, shared)], own):
        key = values.model_dump_json()
        if key in checked:
            continue
        try:
            await outgoing(session, runtime, template, values)
        except ValidationFailed as exc:
            if index is None:
                raise
            prefix = f"recipients[{index}]."
            details = [{**d, "field": prefix + d["field"]} for d in exc.details or []]
            raise ValidationFailed(f"{prefix}{exc.message}", details=details) from exc
        checked.add(key)


async def _insert_recipients(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    template: MessageTemplate,
    campaign: Campaign,
    given: Normalised,
) -> Decimal:
    """Store the recipients in request order with their prices (``recipient_rows``); answers their
    total price."""
    card = card_of(runtime)
    free = await free_inside_window(session, principal.tenant, card, template, given.wa_ids)
    prices = card.prices(template.category, given.wa_ids, free)
    recipients = given.recipients
    # the optional columns only when some recipient has them: 100,000 empty values are not sent
    names = [r.name for r in recipients] if any(r.name is not None for r in recipients) else None
    values = (
        [r.variables.model_dump(mode="json") if r.variables else None for r in recipients]
        if any(r.variables is not None for r in recipients)
        else None
    )
    await store(session, campaign, NewRecipients(given.wa_ids, prices, names, values), utcnow())
    return sum(prices, Decimal(0))
