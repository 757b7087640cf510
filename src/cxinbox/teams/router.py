"""The ``/teams`` area: teams, their members and their working hours.

ADMIN manages everything here. SUPERVISOR reads every team. AGENT reads the teams it belongs to
(another team of the organization answers 403). Another organization's team or user answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from cxinbox.auth.dependencies import AdminDep, MemberDep, ReadSessionDep, SessionDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.clock import utcnow
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.teams import schedules, service
from cxinbox.teams.hours import RULES as HOURS_RULES
from cxinbox.teams.schemas import (
    AddMember,
    CreateTeam,
    PutSchedule,
    ScheduleOut,
    ScheduleStatusOut,
    TeamDetail,
    TeamMemberOut,
    TeamOut,
    UpdateMember,
    UpdateTeam,
)

router = APIRouter(prefix="/teams", tags=["teams"], dependencies=[key_scope(Area.TEAMS)])

READERS = "Any member of the organization; an AGENT only for teams it belongs to (else 403)."
ADMIN_ONLY = "ADMIN only."


@router.get(
    "",
    summary="List teams",
    description="Teams by name, active ones only unless `includeInactive`. SUPERVISOR and ADMIN see "
    "every team; an AGENT sees the teams it belongs to.",
)
async def list_teams(
    principal: MemberDep,
    session: ReadSessionDep,
    include_inactive: Annotated[
        bool, Query(alias="includeInactive", description="Also list deactivated teams")
    ] = False,
) -> Envelope[list[TeamOut]]:
    return Envelope(data=await service.list_teams(session, principal, include_inactive=include_inactive))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a team (admin only)",
    description=f"{ADMIN_ONLY} The name is unique in the organization, ignoring case (409 otherwise).",
)
async def create_team(body: CreateTeam, principal: AdminDep, session: SessionDep) -> Envelope[TeamDetail]:
    return Envelope(data=await service.create_team(session, principal, body))


@router.get("/{id}", summary="Get team detail with members", description=READERS)
async def get_team(id: str, principal: MemberDep, session: ReadSessionDep) -> Envelope[TeamDetail]:
    team = await service.readable_team(session, principal, id)
    return Envelope(data=await service.team_detail(session, principal, team))


@router.patch(
    "/{id}",
    summary="Update team properties (admin only)",
    description=f"{ADMIN_ONLY} Fields left out are kept; `isActive: true` reactivates a team.",
)
async def update_team(
    id: str, body: UpdateTeam, principal: AdminDep, session: SessionDep
) -> Envelope[TeamDetail]:
    return Envelope(data=await service.update_team(session, principal, id, body))


@router.delete(
    "/{id}",
    summary="Deactivate a team (soft delete, admin only)",
    description=f"{ADMIN_ONLY} The team keeps its members and schedule and is hidden from the list "
    "unless `includeInactive`; `PATCH {isActive: true}` brings it back. Deactivating an inactive "
    "team changes nothing.",
)
async def deactivate_team(id: str, principal: AdminDep, session: SessionDep) -> Envelope[Deleted]:
    await service.deactivate_team(session, principal, id)
    return Envelope(data=Deleted(id=id))


@router.post(
    "/{id}/members",
    status_code=status.HTTP_201_CREATED,
    summary="Add a member to a team (admin only)",
    description=f"{ADMIN_ONLY} The user must belong to the organization (404 otherwise); a user "
    "already in the team answers 409. `role` defaults to MEMBER.",
)
async def add_member(
    id: str, body: AddMember, principal: AdminDep, session: SessionDep
) -> Envelope[TeamMemberOut]:
    return Envelope(data=await service.add_member(session, principal, id, body))


@router.patch(
    "/{id}/members/{userId}",
    summary="Update a team member's role (admin only)",
    description=ADMIN_ONLY,
)
async def update_member(
    id: str, userId: str, body: UpdateMember, principal: AdminDep, session: SessionDep
) -> Envelope[TeamMemberOut]:
    return Envelope(data=await service.change_member_role(session, principal, id, userId, body))


@router.delete(
    "/{id}/members/{userId}",
    summary="Remove a member from a team (admin only)",
    description=f"{ADMIN_ONLY} Answers the removed user's id.",
)
async def remove_member(id: str, userId: str, principal: AdminDep, session: SessionDep) -> Envelope[Deleted]:
    await service.remove_member(session, principal, id, userId)
    return Envelope(data=Deleted(id=userId))


@router.get(
    "/{id}/schedule",
    summary="Get team schedule (working hours)",
    description=f"{READERS} A team without a saved schedule answers `configured: false` (always open).",
)
async def get_schedule(id: str, principal: MemberDep, session: ReadSessionDep) -> Envelope[ScheduleOut]:
    return Envelope(data=await schedules.get_schedule(session, principal, id))


@router.put(
    "/{id}/schedule",
    summary="Create or update team schedule (admin only)",
    description=f"{ADMIN_ONLY} `timezone` is required; `weeklyHours` and `exceptions`, when given, "
    "replace the current ones (left out: kept). Slots are `HH:MM` wall-clock times, start before "
    "end, no overlaps within a day; `end` may be `24:00`.\n\n" + HOURS_RULES,
)
async def put_schedule(
    id: str, body: PutSchedule, principal: AdminDep, session: SessionDep
) -> Envelope[ScheduleOut]:
    return Envelope(data=await schedules.put_schedule(session, principal, id, body))


@router.get(
    "/{id}/schedule/status",
    summary="Check if team is currently in working hours",
    description=f"{READERS} `isOpen` now, and `nextChange`: the UTC instant the team next opens or "
    "closes (null when that does not happen within 400 days). A team without a schedule is always "
    "open.\n\n" + HOURS_RULES,
)
async def schedule_status(
    id: str, principal: MemberDep, session: ReadSessionDep
) -> Envelope[ScheduleStatusOut]:
    return Envelope(data=await schedules.schedule_status(session, principal, id, utcnow()))
