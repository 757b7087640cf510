"""Rules of teams and their members.

Who may do what: ADMIN manages teams, members and schedules; SUPERVISOR reads every team; AGENT
reads only the teams it belongs to (another team answers 403). Another organization's team or user
is not found (404).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.service import record
from cxinbox.auth.principal import Principal
from cxinbox.conversations.queue_hooks import queue_changed
from cxinbox.core.errors import Conflict, Forbidden, NotFound
from cxinbox.core.events import publish_event
from cxinbox.models.identity import Role, User
from cxinbox.models.teams import Team, TeamMember
from cxinbox.teams.events import audience
from cxinbox.teams.repository import TeamMemberRepository, TeamRepository
from cxinbox.teams.schemas import (
    AddMember,
    CreateTeam,
    TeamDetail,
    TeamMemberOut,
    TeamOut,
    UpdateMember,
    UpdateTeam,
)


def _team_out(team: Team, member_count: int) -> TeamOut:
    return TeamOut(
        id=team.id,
        name=team.name,
        description=team.description,
        is_active=team.is_active,
        auto_assign=team.auto_assign,
        assignment_strategy=team.assignment_strategy,
        max_concurrent_per_agent=team.max_concurrent_per_agent,
        member_count=member_count,
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


def _member_out(membership: TeamMember, user: User) -> TeamMemberOut:
    return TeamMemberOut(
        user_id=user.id,
        name=user.name,
        email=user.email,
        role=membership.role,
        user_role=user.role,
        joined_at=membership.created_at,
    )


async def readable_team(session: AsyncSession, principal: Principal, team_id: str) -> Team:
    """The team, if the principal may read it (an agent only reads the teams it belongs to)."""
    team = await TeamRepository(session, principal.tenant).get_or_404(team_id)
    if principal.role == Role.AGENT and not await TeamMemberRepository(session, principal.tenant).is_member(
        team.id, principal.require_user()
    ):
        raise Forbidden("Agents may only see the teams they belong to")
    return team


async def team_detail(session: AsyncSession, principal: Principal, team: Team) -> TeamDetail:
    rows = await TeamMemberRepository(session, principal.tenant).members_of(team.id)
    return TeamDetail(**_team_out(team, len(rows)).model_dump(), members=[_member_out(m, u) for m, u in rows])


async def announce(
    session: AsyncSession, principal: Principal, team: Team, event: str = "team.updated"
) -> TeamDetail:
    """Publish ``event`` with the team as it now is (members included), and return that."""
    await session.flush()
    detail = await team_detail(session, principal, team)
    publish_event(
        session,
        team.organization_id,
        event,
        detail.model_dump(mode="json", by_alias=True),
        audience(team.id, [m.user_id for m in detail.members]),
    )
    return detail


async def list_teams(session: AsyncSession, principal: Principal, *, include_inactive: bool) -> list[TeamOut]:
    tenant = principal.tenant
    only_of = principal.require_user() if principal.role == Role.AGENT else None
    teams = await TeamRepository(session, tenant).listing(
        include_inactive=include_inactive, member_user_id=only_of
    )
    counts = await TeamMemberRepository(session, tenant).counts([t.id for t in teams])
    return [_team_out(team, counts.get(team.id, 0)) for team in teams]


async def _ensure_name_free(repo: TeamRepository, name: str, except_id: str | None = None) -> None:
    if await repo.name_taken(name, except_id=except_id):
        raise Conflict(
            "A team with this name already exists (it may be deactivated)",
            details=[{"field": "name", "message": "taken"}],
        )


async def create_team(session: AsyncSession, principal: Principal, body: CreateTeam) -> TeamDetail:
    repo = TeamRepository(session, principal.tenant)
    await _ensure_name_free(repo, body.name)
    team = repo.add(Team(name=body.name, description=body.description or None))
    return await announce(session, principal, team, "team.created")


async def update_team(
    session: AsyncSession, principal: Principal, team_id: str, body: UpdateTeam
) -> TeamDetail:
    repo = TeamRepository(session, principal.tenant)
    team = await repo.get_or_404(team_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name") is not None and changes["name"] != team.name:
        await _ensure_name_free(repo, changes["name"], except_id=team.id)
        team.name = changes["name"]
    if "description" in changes:
        team.description = changes["description"] or None
    if changes.get("is_active") is not None:
        _set_active(session, principal, team, changes["is_active"])
    assignment = {
        k: v for k in ASSIGNMENT_SETTINGS if (v := changes.get(k)) is not None and getattr(team, k) != v
    }
    if assignment:
        for name, value in assignment.items():
            setattr(team, name, value)
        record(
            session,
            principal,
            "team.assignment_changed",
            target_type="team",
            target_id=team.id,
            details={k: getattr(v, "value", v) for k, v in assignment.items()},
        )
        queue_changed(session, team.organization_id)
    return await announce(session, principal, team)


#: the fields of auto-assignment (``routing/assigner.py``)
ASSIGNMENT_SETTINGS = ("auto_assign", "assignment_strategy", "max_concurrent_per_agent")


def _set_active(session: AsyncSession, principal: Principal, team: Team, active: bool) -> None:
    if team.is_active == active:
        return
    team.is_active = active
    action = "team.reactivated" if active else "team.deactivated"
    record(session, principal, action, target_type="team", target_id=team.id, details={"name": team.name})


async def deactivate_team(session: AsyncSession, principal: Principal, team_id: str) -> None:
    """Soft delete: the team, its members and schedule stay, hidden from lists by default."""
    team = await TeamRepository(session, principal.tenant).get_or_404(team_id)
    if team.is_active:
        _set_active(session, principal, team, False)
        await announce(session, principal, team)


def _audit_member(
    session: AsyncSession, principal: Principal, action: str, membership: TeamMember, details: dict[str, str]
) -> None:
    record(
        session,
        principal,
        action,
        target_type="team",
        target_id=membership.team_id,
        details={"userId": membership.user_id, **details},
    )


async def add_member(
    session: AsyncSession, principal: Principal, team_id: str, body: AddMember
) -> TeamMemberOut:
    team = await TeamRepository(session, principal.tenant).get_or_404(team_id)
    members = TeamMemberRepository(session, principal.tenant)
    user = await members.organization_user(body.user_id)
    if user is None:
        raise NotFound("User not found")
    if await members.is_member(team.id, user.id):
        raise Conflict("The user is already a member of this team")
    membership = members.add(TeamMember(team_id=team.id, user_id=user.id, role=body.role))
    _audit_member(session, principal, "team.member_added", membership, {"role": body.role.value})
    queue_changed(session, team.organization_id)
    await announce(session, principal, team)
    return _member_out(membership, user)


async def _membership(
    session: AsyncSession, principal: Principal, team_id: str, user_id: str
) -> tuple[Team, TeamMember, User]:
    team = await TeamRepository(session, principal.tenant).get_or_404(team_id)
    found = await TeamMemberRepository(session, principal.tenant).member(team.id, user_id)
    if found is None:
        raise NotFound("Team member not found")
    return team, *found


async def change_member_role(
    session: AsyncSession, principal: Principal, team_id: str, user_id: str, body: UpdateMember
) -> TeamMemberOut:
    team, membership, user = await _membership(session, principal, team_id, user_id)
    if membership.role != body.role:
        _audit_member(
            session,
            principal,
            "team.member_role_changed",
            membership,
            {"from": membership.role.value, "to": body.role.value},
        )
        membership.role = body.role
        await announce(session, principal, team)
    return _member_out(membership, user)


async def remove_member(session: AsyncSession, principal: Principal, team_id: str, user_id: str) -> None:
    team, membership, _user = await _membership(session, principal, team_id, user_id)
    await TeamMemberRepository(session, principal.tenant).delete(membership)
    _audit_member(session, principal, "team.member_removed", membership, {"role": membership.role.value})
    await announce(session, principal, team)
