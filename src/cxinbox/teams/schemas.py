from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from cxinbox.core.validation import Id
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples, examples_of
from cxinbox.models.identity import Role
from cxinbox.models.teams import AssignmentStrategy, TeamRole
from cxinbox.teams.hours import WEEKDAYS, Slot, load_timezone, ordered_slots, parse_clock

TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
#: the most exception dates a schedule may hold (a year of holidays)
MAX_EXCEPTIONS = 366
#: the most open conversations auto-assignment may give one member
MAX_CONCURRENT = 1000


class TeamOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24ddb-6a7c-7ac7-aaef-fb9d5951a553",
            "name": "Support",
            "description": "First line",
            "isActive": True,
            "autoAssign": False,
            "assignmentStrategy": "ROUND_ROBIN",
            "maxConcurrentPerAgent": 5,
            "memberCount": 1,
            "createdAt": "2026-12-07T09:15:55.004841Z",
            "updatedAt": "2026-12-07T09:15:55.004848Z",
        }
    )
    id: str
    name: str
    description: str | None
    is_active: bool
    auto_assign: bool = Field(
        description="Addition: waiting conversations go to ONLINE members with spare capacity"
    )
    assignment_strategy: AssignmentStrategy = Field(
        description="Addition: how auto-assignment picks the member"
    )
    max_concurrent_per_agent: int = Field(
        description="Addition: auto-assignment gives a member no more open conversations than this"
    )
    member_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class TeamMemberOut(ApiModel):
    user_id: str
    name: str
    email: str
    role: TeamRole = Field(description="The member's role in this team")
    user_role: Role = Field(description="The member's role in the organization")
    joined_at: UtcDatetime


class TeamDetail(TeamOut):
    model_config = examples(
        examples_of(TeamOut)[0]
        | {
            "members": [
                {
                    "userId": "01a24dda-3f64-7b6e-a01c-8d0461196f48",
                    "name": "Ana Lima",
                    "email": "ana@example.com",
                    "role": "LEAD",
                    "userRole": "ADMIN",
                    "joinedAt": "2026-12-07T09:16:20.551203Z",
                }
            ],
        }
    )
    members: list[TeamMemberOut]


class CreateTeam(RequestModel):
    model_config = examples({"name": "Support", "description": "First line"})
    name: TeamName = Field(description="Unique in the organization (ignoring case)")
    description: Description | None = None


class UpdateTeam(RequestModel):
    name: TeamName | None = None
    description: Description | None = None
    is_active: bool | None = Field(
        default=None, description="`true` reactivates a deactivated team; `false` deactivates it"
    )
    auto_assign: bool | None = Field(
        default=None,
        description="Addition: give waiting conversations (OPEN, unassigned, oldest first) to ONLINE "
        "members with spare capacity, while the team's schedule is open",
    )
    assignment_strategy: AssignmentStrategy | None = Field(
        default=None,
        description="Addition: ROUND_ROBIN (the member whose turn it is) or LEAST_BUSY (the member "
        "with the fewest open conversations)",
    )
    max_concurrent_per_agent: int | None = Field(
        default=None, ge=1, le=MAX_CONCURRENT, description="Addition: open conversations per member"
    )


class AddMember(RequestModel):
    user_id: Id = Field(description="A user of the same organization")
    role: TeamRole = TeamRole.MEMBER


class UpdateMember(RequestModel):
    role: TeamRole


# --- working hours -------------------------------------------------------------------------------


class TimeSlot(ApiModel):
    """Open from `start` to `end`, wall-clock time of the schedule's timezone (HH:MM, 24-hour)."""

    start: str = Field(examples=["09:00"], description="00:00 to 23:59")
    end: str = Field(
        examples=["13:00"],
        description="After `start`; up to 24:00 (the end of the day). Overnight hours are two slots: "
        "…–24:00 on one day and 00:00–… on the next.",
    )

    @field_validator("start")
    @classmethod
    def _start_is_a_time(cls, value: str) -> str:
        parse_clock(value)
        return value

    @field_validator("end")
    @classmethod
    def _end_is_a_time(cls, value: str) -> str:
        parse_clock(value, end=True)
        return value

    @model_validator(mode="after")
    def _starts_before_end(self) -> TimeSlot:
        Slot.parse(self.start, self.end)
        return self

    def slot(self) -> Slot:
        return Slot.parse(self.start, self.end)


def _sorted_without_overlaps(slots: list[TimeSlot]) -> list[TimeSlot]:
    ordered_slots(s.slot() for s in slots)
    return sorted(slots, key=lambda s: s.slot())


DaySlots = Annotated[list[TimeSlot], AfterValidator(_sorted_without_overlaps)]


class WeeklyHours(ApiModel):
    """Slots per weekday; a day left out or empty is closed. Other keys are refused (a misspelled
    day would otherwise silently close that day)."""

    model_config = ConfigDict(extra="forbid")

    monday: DaySlots = []
    tuesday: DaySlots = []
    wednesday: DaySlots = []
    thursday: DaySlots = []
    friday: DaySlots = []
    saturday: DaySlots = []
    sunday: DaySlots = []

    def by_day(self) -> dict[str, list[TimeSlot]]:
        return {day: getattr(self, day) for day in WEEKDAYS}


class ScheduleException(ApiModel):
    """A date (in the schedule's timezone) with its own hours instead of its weekday's."""

    date: dt.date
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = Field(
        default=None, examples=["Christmas"]
    )
    closed: bool | None = Field(
        default=None,
        description="Closed all day. Optional on input: it follows from `slots` (no slots: closed).",
    )
    slots: DaySlots = []

    @model_validator(mode="after")
    def _closed_matches_slots(self) -> ScheduleException:
        if self.closed is True and self.slots:
            raise ValueError("a closed day has no slots")
        if self.closed is False and not self.slots:
            raise ValueError("an open day needs at least one slot")
        self.closed = not self.slots
        return self


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _iana_timezone(name: str) -> str:
    if name not in _known_timezones():
        raise ValueError(f"'{name}' is not a known IANA timezone")
    load_timezone(name)
    return name


def _distinct_dates(exceptions: list[ScheduleException]) -> list[ScheduleException]:
    dates = [e.date for e in exceptions]
    repeated = sorted({d for d in dates if dates.count(d) > 1})
    if repeated:
        raise ValueError(f"dates given more than once: {', '.join(d.isoformat() for d in repeated)}")
    return sorted(exceptions, key=lambda e: e.date)


IanaTimezone = Annotated[str, AfterValidator(_iana_timezone)]
Exceptions = Annotated[
    list[ScheduleException], Field(max_length=MAX_EXCEPTIONS), AfterValidator(_distinct_dates)
]


class PutSchedule(RequestModel):
    timezone: IanaTimezone = Field(examples=["Europe/Madrid"], description="An IANA timezone name")
    weekly_hours: WeeklyHours | None = Field(
        default=None, description="Replaces the whole week; left out: the current week is kept"
    )
    exceptions: Exceptions | None = Field(
        default=None, description="Replaces every exception; left out: the current ones are kept"
    )


class ScheduleOut(ApiModel):
    team_id: str
    configured: bool = Field(description="`false` until a schedule is saved: the team is always open")
    timezone: str
    weekly_hours: WeeklyHours
    exceptions: list[ScheduleException]
    updated_at: UtcDatetime | None


class ScheduleStatusOut(ApiModel):
    team_id: str
    configured: bool
    is_open: bool
    next_change: UtcDatetime | None = Field(
        description="When the team next opens (if closed) or closes (if open), UTC; null if that "
        "does not happen within 400 days (no hours at all, or open around the clock)"
    )
    timezone: str
    local_time: str = Field(description="The instant checked, as ISO 8601 in the team's timezone")
    checked_at: UtcDatetime
