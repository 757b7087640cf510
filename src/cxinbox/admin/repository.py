"""Platform-wide queries of the super admin. Deliberately not tenant-scoped: every query here spans
organizations, and only ``/admin`` (super admin) services use them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from cxinbox.admin.schemas import OrganizationFilter, OrganizationSortBy, SortOrder
from cxinbox.core.pagination import PageParams, paginate
from cxinbox.core.repository import Repository
from cxinbox.models.identity import ApiKey, Organization, User
from cxinbox.models.teams import Team

_SORT_COLUMNS = {
    OrganizationSortBy.CREATED_AT: Organization.created_at,
    OrganizationSortBy.UPDATED_AT: Organization.updated_at,
    OrganizationSortBy.NAME: Organization.name,
    OrganizationSortBy.SLUG: Organization.slug,
    OrganizationSortBy.PLAN: Organization.plan,
    OrganizationSortBy.STATUS: Organization.status,
}

LIVE_USER = User.deleted_at.is_(None)


class OrganizationRepository(Repository[Organization]):
    model = Organization
    not_found_message = "Organization not found"

    def matching(self, wanted: OrganizationFilter) -> Select[Organization]:
        stmt = self.select()
        if wanted.search:
            stmt = stmt.where(
                or_(
                    Organization.name.icontains(wanted.search, autoescape=True),
                    Organization.slug.icontains(wanted.search, autoescape=True),
                )
            )
        if wanted.plan:
            stmt = stmt.where(Organization.plan == wanted.plan)
        if wanted.status:
            stmt = stmt.where(Organization.status == wanted.status)
        return stmt

    async def page(
        self, wanted: OrganizationFilter, sort_by: OrganizationSortBy, order: SortOrder, params: PageParams
    ) -> tuple[list[Organization], int]:
        column = _SORT_COLUMNS[sort_by]
        direction: list[Any] = [column.asc(), Organization.id.asc()]
        if order == SortOrder.DESC:
            direction = [column.desc(), Organization.id.desc()]
        return await paginate(self.session, self.matching(wanted).order_by(*direction), params)

    async def slug_taken(self, slug: str) -> bool:
        return await self.session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None

    async def user_counts(self, organization_ids: Sequence[str]) -> dict[str, int]:
        rows = await self.session.execute(
            select(User.organization_id, func.count(User.id))
            .where(User.organization_id.in_(organization_ids), LIVE_USER)
            .group_by(User.organization_id)
        )
        return {str(org_id): count for org_id, count in rows}

    async def users_of(self, organization_id: str) -> Sequence[User]:
        return (
            await self.session.scalars(
                select(User)
                .where(User.organization_id == organization_id, LIVE_USER)
                .order_by(User.created_at, User.id)
            )
        ).all()

    async def user_of(self, organization_id: str, user_id: str) -> User | None:
        return await self.session.scalar(
            select(User).where(User.id == user_id, User.organization_id == organization_id, LIVE_USER)
        )

    async def count(self, model: Any, *where: Any) -> int:
        return int(await self.session.scalar(select(func.count(model.id)).where(*where)) or 0)

    async def count_by(self, column: Any, *where: Any) -> dict[str, int]:
        rows = await self.session.execute(select(column, func.count()).where(*where).group_by(column))
        return {str(getattr(key, "value", key)): n for key, n in rows}

    async def organization_counts(self, organization_id: str) -> dict[str, Any]:
        in_org = User.organization_id == organization_id
        return {
            "users": await self.count(User, in_org, LIVE_USER),
            "active_users": await self.count(User, in_org, LIVE_USER, User.is_active.is_(True)),
            "users_by_role": await self.count_by(User.role, in_org, LIVE_USER),
            "api_keys": await self.count(ApiKey, ApiKey.organization_id == organization_id),
            "teams": await self.count(Team, Team.organization_id == organization_id),
        }

    async def created_since(self, since: datetime) -> int:
        return await self.count(Organization, Organization.created_at >= since)
