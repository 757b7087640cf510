"""A campaign's recipients as given: numbers normalised to WhatsApp's form, duplicates dropped (the
first wins), invalid ones reported by their index in the request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.campaigns.pricing import RateCard
from cxinbox.campaigns.schemas import InvalidRecipient, Recipient
from cxinbox.core.clock import utcnow
from cxinbox.core.tenancy import TenantContext
from cxinbox.core.validation import wa_id_of
from cxinbox.models.inbox import Contact, Conversation
from cxinbox.models.templates import MessageTemplate
from cxinbox.whatsapp.outbound.compose import SERVICE_WINDOW

#: numbers per query (within both databases' limits of bound parameters)
_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Normalised:
    #: (index in the request, wa_id, the recipient as given), first occurrence of each number
    valid: list[tuple[int, str, Recipient]]
    invalid: list[InvalidRecipient]


def normalise(recipients: Sequence[Recipient]) -> Normalised:
    seen: set[str] = set()
    valid: list[tuple[int, str, Recipient]] = []
    invalid: list[InvalidRecipient] = []
    for index, recipient in enumerate(recipients):
        wa_id = wa_id_of(recipient.phone)
        if wa_id is None:
            invalid.append(InvalidRecipient(index=index, phone=recipient.phone))
        elif wa_id not in seen:
            seen.add(wa_id)
            valid.append((index, wa_id, recipient))
    return Normalised(valid=valid, invalid=invalid)


async def inside_window(
    session: AsyncSession, tenant: TenantContext, account_id: str, wa_ids: Sequence[str]
) -> set[str]:
    """The numbers that wrote to this WhatsApp account in the last 24 hours."""
    since = utcnow() - SERVICE_WINDOW
    found: set[str] = set()
    for start in range(0, len(wa_ids), _CHUNK):
        chunk = list(wa_ids[start : start + _CHUNK])
        stmt = (
            select(Contact.wa_id)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .where(
                Contact.organization_id == tenant.organization_id,
                Conversation.organization_id == tenant.organization_id,
                Conversation.whatsapp_account_id == account_id,
                Conversation.last_inbound_at >= since,
                Contact.wa_id.in_(chunk),
            )
        )
        found.update(await session.scalars(stmt))
    return found


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
