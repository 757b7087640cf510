"""Platform statistics: the full view for the super admin and the small public one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.admin.repository import LIVE_USER, OrganizationRepository
from cxinbox.admin.schemas import CountsByKey, PlatformStats
from cxinbox.core.clock import utcnow
from cxinbox.models.identity import ApiKey, Organization, OrganizationStatus, User

RECENT_DAYS = 30


async def platform_stats(session: AsyncSession) -> PlatformStats:
    repo = OrganizationRepository(session)
    in_an_org = User.organization_id.is_not(None)
    return PlatformStats(
        organizations=CountsByKey(
            total=await repo.count(Organization),
            by_plan=await repo.count_by(Organization.plan),
            by_status=await repo.count_by(Organization.status),
        ),
        organizations_created_last_30_days=await repo.created_since(utcnow() - timedelta(days=RECENT_DAYS)),
        users=CountsByKey(
            total=await repo.count(User, in_an_org, LIVE_USER),
            by_role=await repo.count_by(User.role, in_an_org, LIVE_USER),
        ),
        active_users=await repo.count(User, in_an_org, LIVE_USER, User.is_active.is_(True)),
        api_keys=await repo.count(ApiKey, ApiKey.is_active.is_(True)),
    )


async def active_totals(session: AsyncSession) -> tuple[int, int]:
    """Active organizations and the active users in them (what the public may know)."""
    repo = OrganizationRepository(session)
    active_org = Organization.status == OrganizationStatus.ACTIVE
    organizations = await repo.count(Organization, active_org)
    users = await repo.count(
        User,
        LIVE_USER,
        User.is_active.is_(True),
        User.organization_id.in_(select(Organization.id).where(active_org)),
    )
    return organizations, users
