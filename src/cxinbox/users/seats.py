"""The seats limit: how many people an organization's plan lets it have."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.errors import NotFound
from cxinbox.models.identity import Organization
from cxinbox.plans.limits import SEATS, ensure_within_limit
from cxinbox.users.repository import count_seats


async def seats_in_use(session: AsyncSession, organization_id: str) -> int:
    return await count_seats(session, organization_id, utcnow())


async def ensure_seat_available(session: AsyncSession, organization_id: str, adding: int = 1) -> None:
    """402 when ``adding`` more seats would pass the plan's limit. The organization row is locked
    (PostgreSQL) so that concurrent invitations cannot both take the last seat."""
    org = await session.scalar(
        select(Organization).where(Organization.id == organization_id).with_for_update()
    )
    if org is None:
        raise NotFound("Organization not found")
    await ensure_within_limit(session, org, SEATS, adding)
