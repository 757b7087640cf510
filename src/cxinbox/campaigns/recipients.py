"""A campaign's recipients as given: numbers normalised to WhatsApp's form, duplicates dropped (the
first wins), invalid ones reported by their index in the request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.campaigns.pricing import RateCard
from cxinbox.campaigns.schemas import InvalidRecipient, Recipient
from cxinbox.core.clock import utcnow
from cxinbox.core.tenancy import TenantContext
from cxinbox.core.validation import wa_id_of
from cxinbox.models.inbox import Contact, Conversation
from cxinbox.models.templates import MessageTemplate
from cxinbox.whatsapp.outbound.compose import SERVICE_WINDOW
from cxinbox.whatsapp.outbound.id_sets import PerDialect, among


@dataclass(frozen=True, slots=True)
class Normalised:
    """The first occurrence of each number, as parallel lists (no object per recipient beside the
    request's own: a campaign holds 100,000 of them alive through its creation)."""

    #: index in the request
    indexes: list[int]
    #: the number as WhatsApp names it
    wa_ids: list[str]
    #: the recipient as given
    recipients: list[Recipient]
    invalid: list[InvalidRecipient]


def normalise(recipients: Sequence[Recipient]) -> Normalised:
    seen: set[str] = set()
    found = Normalised(indexes=[], wa_ids=[], recipients=[], invalid=[])
    for index, recipient in enumerate(recipients):
        wa_id = wa_id_of(recipient.phone)
        if wa_id is None:
            found.invalid.append(InvalidRecipient(index=index, phone=recipient.phone))
        elif wa_id not in seen:
            seen.add(wa_id)
            found.indexes.append(index)
            found.wa_ids.append(wa_id)
            found.recipients.append(recipient)
    return found


def _open_windows(dialect: str) -> Select[str]:
    """The numbers bound as one list (a campaign's 100,000 are one statement, not an ``IN`` of
    100,000 parameters rendered one by one) whose conversation on the account had an inbound
    message since ``since``."""
    organization = bindparam("organization_id", type_=String)
    return (
        select(Contact.wa_id)
        .join(Conversation, Conversation.contact_id == Contact.id)
        .where(
            Contact.organization_id == organization,
            Conversation.organization_id == organization,
            Conversation.whatsapp_account_id == bindparam("account_id"),
            Conversation.last_inbound_at >= bindparam("since"),
            among(Contact.wa_id, "wa_ids", dialect),
        )
    )


_OPEN_WINDOWS = PerDialect(_open_windows)


async def inside_window(
    session: AsyncSession, tenant: TenantContext, account_id: str, wa_ids: Sequence[str]
) -> set[str]:
    """The numbers that wrote to this WhatsApp account in the last 24 hours."""
    if not wa_ids:
        return set()
    stmt, _ = _OPEN_WINDOWS(session)
    params = {
        "organization_id": tenant.organization_id,
        "account_id": account_id,
        "since": utcnow() - SERVICE_WINDOW,
        "wa_ids": list(wa_ids),
    }
    return set(await session.scalars(stmt, params))


async def free_inside_window(
    session: AsyncSession,
    tenant: TenantContext,
    card: RateCard,
    template: MessageTemplate,
    wa_ids: Sequence[str],
) -> set[str]:
    """The numbers Meta would not charge for ``template`` because their window is open (asked only
    for a category that is free there: a utility template)."""
    if card.chargeable(template.category, window_open=True):
        return set()
    return await inside_window(session, tenant, template.whatsapp_account_id, wa_ids)
