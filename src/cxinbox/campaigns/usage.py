"""The ``campaigns`` plan limit: campaigns created in the current calendar month (UTC)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.models.campaigns import Campaign


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def created_this_month(session: AsyncSession, organization_id: str) -> int:
    stmt = select(func.count(Campaign.id)).where(
        Campaign.organization_id == organization_id, Campaign.created_at >= month_start(utcnow())
    )
    return int(await session.scalar(stmt) or 0)
