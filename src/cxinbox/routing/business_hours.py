"""The organization's business hours, read with the team schedules' engine (``teams/hours.py``), so
daylight-saving changes resolve the same way."""

from __future__ import annotations

from datetime import datetime

from cxinbox.models.routing import RoutingSettings
from cxinbox.routing.schemas import BusinessSlot
from cxinbox.teams.hours import WEEKDAYS, ScheduleStatus, WeeklySchedule, load_timezone, status_at
from cxinbox.teams.schemas import ScheduleException

ALWAYS_OPEN = ScheduleStatus(is_open=True, next_change=None)


def slots_of(settings: RoutingSettings) -> list[BusinessSlot]:
    return [BusinessSlot.model_validate(s) for s in settings.business_slots or ()]


def exceptions_of(settings: RoutingSettings) -> list[ScheduleException]:
    return [ScheduleException.model_validate(e) for e in settings.business_exceptions or ()]


def schedule_of(settings: RoutingSettings) -> WeeklySchedule:
    slots = slots_of(settings)
    week = tuple(tuple(sorted(s.slot() for s in slots if s.day == day)) for day in WEEKDAYS)
    exceptions = {e.date: tuple(sorted(s.slot() for s in e.slots)) for e in exceptions_of(settings)}
    return WeeklySchedule(
        timezone=load_timezone(settings.business_timezone), week=week, exceptions=exceptions
    )


def business_status(settings: RoutingSettings, at: datetime) -> ScheduleStatus:
    """Open or closed at ``at``; disabled business hours are always open."""
    if not settings.business_hours_enabled:
        return ALWAYS_OPEN
    return status_at(schedule_of(settings), at)
