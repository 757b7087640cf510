"""What several benches start from: an organization on the enterprise plan with a connected number."""

from __future__ import annotations

import random
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.models.identity import Organization, Plan
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime


async def organization_with_number(
    session: AsyncSession, runtime: Runtime, *, name: str, slug: str, token: str, **account: str
) -> tuple[Organization, WhatsAppAccount]:
    """A new organization (flushed: its id is known) and its number (a random phone number id that
    takes ``token``; ``account`` sets more of its columns), both added to ``session``."""
    number = str(random.randrange(10**14, 10**15))
    org = Organization(name=name, slug=f"{slug}-{uuid.uuid4().hex[:8]}", plan=Plan.ENTERPRISE)
    session.add(org)
    await session.flush()
    whatsapp = WhatsAppAccount(
        organization_id=org.id,
        waba_id=number,
        phone_number_id=number,
        display_phone_number="15550100",
        access_token_encrypted=runtime.secrets.encrypt(token),
        **account,
    )
    session.add(whatsapp)
    return org, whatsapp
