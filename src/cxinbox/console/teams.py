"""The teams pages (admins): the organization's teams and a form that creates one; a team's page
with its members (add, remove) and its working hours, through the same services as ``/teams``,
``/teams/{id}/members`` and ``/teams/{id}/schedule``.

The week is edited as one line per day, ``09:00-13:00, 14:00-18:00`` (empty: closed).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from cxinbox.console.admin import again, notice, perform, refused, text
from cxinbox.console.places import TEAMS
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.errors import NotFound
from cxinbox.core.pagination import PageParams
from cxinbox.teams import schedules
from cxinbox.teams import service as teams
from cxinbox.teams.hours import WEEKDAYS
from cxinbox.teams.schemas import AddMember, CreateTeam, PutSchedule, ScheduleOut, TimeSlot
from cxinbox.users import service as users
from cxinbox.users.schemas import UserFilter

router = APIRouter(include_in_schema=False)
DONE = ("team_created", "member_added", "member_removed", "schedule_saved")
#: the most people the "add a member" list offers
SHOWN = 200


async def _list_page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    async with visit.runtime.read_session() as session:
        found = await teams.list_teams(session, visit.member, include_inactive=False)
    context.setdefault("notice", notice(visit, DONE))
    return visit.page("console/teams.html", status_code, teams=found, **context)


def _day_line(slots: list[TimeSlot]) -> str:
    return ", ".join(f"{slot.start}-{slot.end}" for slot in slots)


async def _team_page(visit: Visit, status_code: int = 200, *, team_id: str, **context: object) -> Response:
    principal = visit.member
    try:
        async with visit.runtime.read_session() as session:
            team = await teams.readable_team(session, principal, team_id)
            detail = await teams.team_detail(session, principal, team)
            schedule: ScheduleOut = await schedules.get_schedule(session, principal, team_id)
            people, _ = await users.list_users(
                session, principal, UserFilter(is_active=True), PageParams(page=1, limit=SHOWN)
            )
    except NotFound:
        return visit.page("console/message.html", 404, title=visit.t("teams"), text=visit.t("not_found_here"))
    members = {m.user_id for m in detail.members}
    week = {day: _day_line(slots) for day, slots in schedule.weekly_hours.by_day().items()}
    context.setdefault("notice", notice(visit, DONE))
    return visit.page(
        "console/team_detail.html",
        status_code,
        team=detail,
        schedule=schedule,
        week=context.pop("week", week),
        days=WEEKDAYS,
        candidates=[p for p in people if p.id not in members],
        **context,
    )


@router.get(TEAMS.path, response_class=HTMLResponse)
async def teams_page(visit: MemberDep) -> Response:
    return refused(visit, TEAMS) or await _list_page(visit)


@router.post(TEAMS.path, response_class=HTMLResponse)
async def create_team(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, TEAMS):
        return no
    submitted = {k: v for k in ("name", "description") if (v := text(form, k, 1000))}
    try:
        body = CreateTeam.model_validate(submitted)
    except ValidationError:
        return await _list_page(visit, 400, error=visit.t("invalid_form"), submitted=submitted)
    principal = visit.member
    return await perform(
        visit,
        lambda s: teams.create_team(s, principal, body),
        TEAMS.path,
        "team_created",
        again(_list_page, visit, submitted=submitted),
    )


@router.get(TEAMS.path + "/{id}", response_class=HTMLResponse)
async def team_page(id: str, visit: MemberDep) -> Response:
    return refused(visit, TEAMS) or await _team_page(visit, team_id=id)


@router.post(TEAMS.path + "/{id}/members", response_class=HTMLResponse)
async def add_member(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, TEAMS):
        return no
    try:
        body = AddMember.model_validate({"userId": text(form, "user_id", 64), "role": text(form, "role", 16)})
    except ValidationError:
        return await _team_page(visit, 400, team_id=id, error=visit.t("invalid_form"))
    principal, back = visit.member, f"{TEAMS.path}/{id}"
    return await perform(
        visit,
        lambda s: teams.add_member(s, principal, id, body),
        back,
        "member_added",
        again(_team_page, visit, team_id=id),
    )


@router.post(TEAMS.path + "/{id}/members/{user_id}/remove", response_class=HTMLResponse)
async def remove_member(id: str, user_id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, TEAMS):
        return no
    principal, back = visit.member, f"{TEAMS.path}/{id}"
    return await perform(
        visit,
        lambda s: teams.remove_member(s, principal, id, user_id),
        back,
        "member_removed",
        again(_team_page, visit, team_id=id),
    )


def _week(form: FormData) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """Each day's line as typed, and as slots (``{start, end}``) for the schedule's validation."""
    typed = {day: text(form, day, 200) for day in WEEKDAYS}
    slots = {
        day: [
            {"start": start.strip(), "end": end.strip()}
            for part in line.split(",")
            if part.strip()
            for start, _, end in [part.partition("-")]
        ]
        for day, line in typed.items()
    }
    return typed, slots


@router.post(TEAMS.path + "/{id}/schedule", response_class=HTMLResponse)
async def save_schedule(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, TEAMS):
        return no
    typed, slots = _week(form)
    try:
        body = PutSchedule.model_validate({"timezone": text(form, "timezone", 64), "weeklyHours": slots})
    except ValidationError:
        return await _team_page(visit, 400, team_id=id, error=visit.t("schedule_invalid"), week=typed)
    principal, back = visit.member, f"{TEAMS.path}/{id}"
    return await perform(
        visit,
        lambda s: schedules.put_schedule(s, principal, id, body),
        back,
        "schedule_saved",
        again(_team_page, visit, team_id=id, week=typed),
    )
