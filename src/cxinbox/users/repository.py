"""Queries over the people of one organization.

``User`` is not a ``TenantModel`` (super admins belong to no organization), so this repository
scopes its base statement itself; soft-deleted users are left out unless asked for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.repository import Repository, TenantRepository
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.identity import Role, User
from cxinbox.models.invitations import Invitation
from cxinbox.models.teams import Team, TeamMember
from cxinbox.users.schemas import UserFilter


class UserRepository(Repository[User]):
    model = User
    not_found_message = "User not found"

    def __init__(self, session: AsyncSession, tenant: TenantContext) -> None:
        super().__init__(session)
        self.tenant = tenant

    def select(self) -> Select[User]:
        """The organization's users, soft-deleted ones left out."""
        return select(User).where(
            User.organization_id == self.tenant.organization_id, User.deleted_at.is_(None)
        )

    def filtered(self, criteria: UserFilter) -> Select[User]:
        stmt = self.select()
        if criteria.search:
            term = criteria.search.strip().lower()
            stmt = stmt.where(
                or_(
                    func.lower(User.name).contains(term, autoescape=True),
                    User.email.contains(term, autoescape=True),
                )
            )
        if criteria.role is not None:
            stmt = stmt.where(User.role == criteria.role)
        if criteria.is_active is not None:
            stmt = stmt.where(User.is_active.is_(criteria.is_active))
        if criteria.status is not None:
            stmt = stmt.where(User.status == criteria.status)
        if criteria.team_id:
            stmt = stmt.where(
                User.id.in_(select(TeamMember.user_id).where(TeamMember.team_id == criteria.team_id))
            )
        return stmt.order_by(User.created_at, User.id)

    async def by_ids(self, ids: Iterable[str]) -> dict[str, User]:
        users = await self.list(self.select().where(User.id.in_(list(ids))))
        return {u.id: u for u in users}

    async def count_active_admins(self, *, excluding: str) -> int:
        stmt = self.select().where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != excluding)
        return int(await self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


class TeamMembershipRepository(TenantRepository[TeamMember]):
    model = TeamMember

    async def teams_of(self, user_ids: Sequence[str]) -> dict[str, list[tuple[Team, TeamMember]]]:
        rows = await self.session.execute(
            self.scoped(select(Team, TeamMember).join(TeamMember, TeamMember.team_id == Team.id))
            .where(TeamMember.user_id.in_(user_ids))
            .order_by(Team.name)
        )
        teams: dict[str, list[tuple[Team, TeamMember]]] = defaultdict(list)
        for team, member in rows:
            teams[member.user_id].append((team, member))
        return teams

    async def unknown_team_ids(self, team_ids: Iterable[str]) -> list[str]:
        wanted = set(team_ids)
        found = set(
            await self.session.scalars(
                select(Team.id).where(
                    Team.organization_id == self.tenant.organization_id, Team.id.in_(wanted)
                )
            )
        )
        return sorted(wanted - found)

    async def replace(self, user_id: str, team_ids: Iterable[str]) -> None:
        """Make ``team_ids`` the user's teams, keeping the team role of memberships that stay."""
        wanted = set(team_ids)
        current = {m.team_id: m for m in await self.list(self.select().where(TeamMember.user_id == user_id))}
        for team_id, membership in current.items():
            if team_id not in wanted:
                await self.delete(membership)
        for team_id in sorted(wanted - current.keys()):
            self.add(TeamMember(team_id=team_id, user_id=user_id))
        await self.flush()

    async def remove_user(self, user_id: str) -> None:
        await self.session.execute(
            delete(TeamMember).where(
                TeamMember.organization_id == self.tenant.organization_id, TeamMember.user_id == user_id
            )
        )


async def pending_invitation_user_ids(
    session: AsyncSession, tenant: TenantContext, user_ids: Sequence[str], now: datetime
) -> set[str]:
    """Which of ``user_ids`` have an invitation link waiting to be accepted."""
    stmt = select(Invitation.user_id).where(
        Invitation.organization_id == tenant.organization_id,
        Invitation.user_id.in_(user_ids),
        Invitation.pending_at(now),
    )
    return {uid for uid in await session.scalars(stmt) if uid}


async def count_seats(session: AsyncSession, organization_id: str, now: datetime) -> int:
    """Seats in use: active, not deleted users plus pending invitations that will create a user."""
    users = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.organization_id == organization_id, User.is_active.is_(True), User.deleted_at.is_(None))
    )
    invitations = await session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(
            Invitation.organization_id == organization_id,
            Invitation.user_id.is_(None),
            Invitation.pending_at(now),
        )
    )
    return int(users or 0) + int(invitations or 0)
