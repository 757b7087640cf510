"""Rules of team working hours: storing a schedule and answering whether the team is open now.

A team without a saved schedule has no working-hours restriction: it is always open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.models.teams import Team, TeamSchedule
from cxinbox.teams.hours import ScheduleStatus, WeeklySchedule, load_timezone, status_at
from cxinbox.teams.repository import TeamRepository, TeamScheduleRepository
from cxinbox.teams.schemas import (
    PutSchedule,
    ScheduleException,
    ScheduleOut,
    ScheduleStatusOut,
    TimeSlot,
    WeeklyHours,
)
from cxinbox.teams.service import announce, readable_team

#: the zone a team without a schedule reports
DEFAULT_TIMEZONE = "UTC"


def schedule_out(team: Team, row: TeamSchedule | None) -> ScheduleOut:
    if row is None:
        return ScheduleOut(
            team_id=team.id,
            configured=False,
            timezone=DEFAULT_TIMEZONE,
            weekly_hours=WeeklyHours(),
            exceptions=[],
            updated_at=None,
        )
    return ScheduleOut(
        team_id=team.id,
        configured=True,
        timezone=row.timezone,
        weekly_hours=WeeklyHours.model_validate(row.weekly_hours),
        exceptions=[ScheduleException.model_validate(e) for e in row.exceptions],
        updated_at=row.updated_at,
    )


def _slots(day: list[TimeSlot]) -> tuple:
    return tuple(s.slot() for s in day)


def weekly_schedule(schedule: ScheduleOut) -> WeeklySchedule:
    return WeeklySchedule(
        timezone=load_timezone(schedule.timezone),
        week=tuple(_slots(day) for day in schedule.weekly_hours.by_day().values()),
        exceptions={e.date: _slots(e.slots) for e in schedule.exceptions},
    )


async def get_schedule(session: AsyncSession, principal: Principal, team_id: str) -> ScheduleOut:
    team = await readable_team(session, principal, team_id)
    return schedule_out(team, await TeamScheduleRepository(session, principal.tenant).of_team(team.id))


async def put_schedule(
    session: AsyncSession, principal: Principal, team_id: str, body: PutSchedule
) -> ScheduleOut:
    team = await TeamRepository(session, principal.tenant).get_or_404(team_id)
    repo = TeamScheduleRepository(session, principal.tenant)
    row = await repo.of_team(team.id)
    if row is None:
        row = repo.add(TeamSchedule(team_id=team.id, weekly_hours={}, exceptions=[]))
    row.timezone = body.timezone
    if body.weekly_hours is not None:
        row.weekly_hours = body.weekly_hours.model_dump(mode="json")
    if body.exceptions is not None:
        row.exceptions = [e.model_dump(mode="json", exclude={"closed"}) for e in body.exceptions]
    await announce(session, principal, team)
    return schedule_out(team, row)


async def schedule_status(
    session: AsyncSession, principal: Principal, team_id: str, at: datetime
) -> ScheduleStatusOut:
    schedule = await get_schedule(session, principal, team_id)
    status = (
        status_at(weekly_schedule(schedule), at)
        if schedule.configured
        else ScheduleStatus(is_open=True, next_change=None)
    )
    return ScheduleStatusOut(
        team_id=schedule.team_id,
        configured=schedule.configured,
        is_open=status.is_open,
        next_change=status.next_change,
        timezone=schedule.timezone,
        local_time=at.astimezone(load_timezone(schedule.timezone)).isoformat(),
        checked_at=at,
    )
