from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select

from cxinbox.core.repository import TenantRepository
from cxinbox.models.identity import User
from cxinbox.models.teams import Team, TeamMember, TeamSchedule


class TeamRepository(TenantRepository[Team]):
    model = Team
    not_found_message = "Team not found"

    async def listing(self, *, include_inactive: bool, member_user_id: str | None) -> Sequence[Team]:
        """Teams by name; only active ones unless ``include_inactive``, only those ``member_user_id``
        belongs to when given."""
        stmt = self.select().order_by(func.lower(Team.name), Team.id)
        if not include_inactive:
            stmt = stmt.where(Team.is_active.is_(True))
        if member_user_id is not None:
            stmt = stmt.where(
                Team.id.in_(select(TeamMember.team_id).where(TeamMember.user_id == member_user_id))
            )
        return await self.list(stmt)

    async def name_taken(self, name: str, *, except_id: str | None = None) -> bool:
        stmt = self.select().where(func.lower(Team.name) == name.lower())
        if except_id is not None:
            stmt = stmt.where(Team.id != except_id)
        return await self.session.scalar(stmt) is not None


class TeamMemberRepository(TenantRepository[TeamMember]):
    model = TeamMember
    not_found_message = "Team member not found"

    def _with_users(self) -> Select[TeamMember, User]:
        """Memberships with their user (users removed from the organization are left out)."""
        return self.scoped(
            select(TeamMember, User)
            .join(User, User.id == TeamMember.user_id)
            .where(User.deleted_at.is_(None))
        )

    async def members_of(self, team_id: str) -> Sequence[tuple[TeamMember, User]]:
        stmt = (
            self._with_users().where(TeamMember.team_id == team_id).order_by(func.lower(User.name), User.id)
        )
        return (await self.session.execute(stmt)).all()

    async def member(self, team_id: str, user_id: str) -> tuple[TeamMember, User] | None:
        stmt = self._with_users().where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
        return (await self.session.execute(stmt)).first()

    async def is_member(self, team_id: str, user_id: str) -> bool:
        stmt = self.select().where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
        return await self.session.scalar(stmt) is not None

    async def counts(self, team_ids: Sequence[str]) -> dict[str, int]:
        stmt = self.scoped(
            select(TeamMember.team_id, func.count())
            .join(User, User.id == TeamMember.user_id)
            .where(TeamMember.team_id.in_(team_ids), User.deleted_at.is_(None))
            .group_by(TeamMember.team_id)
        )
        return dict((await self.session.execute(stmt)).all())

    async def organization_user(self, user_id: str) -> User | None:
        """A user of this organization who has not been removed from it."""
        return await self.session.scalar(
            select(User).where(
                User.id == user_id,
                User.organization_id == self.tenant.organization_id,
                User.deleted_at.is_(None),
            )
        )


class TeamScheduleRepository(TenantRepository[TeamSchedule]):
    model = TeamSchedule

    async def of_team(self, team_id: str) -> TeamSchedule | None:
        return await self.session.scalar(self.select().where(TeamSchedule.team_id == team_id))
