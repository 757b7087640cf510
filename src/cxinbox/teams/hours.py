"""Working hours: is a team open at an instant, and when does that next change?

Pure functions over a ``WeeklySchedule`` (no database, no clock), so any instant can be tested. The
rules they follow are ``RULES`` below (also published in the API reference).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
END_OF_DAY = 24 * 60
#: How far ahead the next change is searched (over a year, so past any yearly holiday); no change
#: within it is reported as ``None``: in practice a schedule with no hours, or open around the clock.
SEARCH_DAYS = 400

RULES = """\
Slots are wall-clock times of the team's timezone; each slot of a local date is ONE continuous open
period, resolved like this around daylight-saving changes:

- a normal time is unambiguous: `09:00`-`17:00` is 09:00-17:00 local on either side of a change;
- a time the clocks skip (e.g. 02:30 on a spring-forward night) resolves to the instant the clocks
  jump, so a slot reaching into the skipped hour is shorter by the skipped part, and a slot lying
  wholly inside it does not happen that day;
- a time the clocks repeat (e.g. 01:30 on a fall-back night) opens at its FIRST occurrence and
  closes at its SECOND, so a slot touching the repeated hour is longer by it and never interrupted.

Slots are half-open `[start, end)`: at the exact opening instant the team is open, at the exact
closing instant it is closed. `end` may be `24:00` (the end of the day); a slot never runs past
midnight: overnight hours are two slots, `22:00`-`24:00` and `00:00`-`06:00` the next day.
Back-to-back slots (also across midnight) are one open period: no change is reported between them.
An exception date is a date of the team's timezone.
"""

_CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


def parse_clock(text: str, *, end: bool = False) -> int:
    """``"HH:MM"`` -> minutes after midnight; ``"24:00"`` is accepted only as an ``end``."""
    if end and text == "24:00":
        return END_OF_DAY
    if not _CLOCK.match(text):
        allowed = "00:00 to 24:00" if end else "00:00 to 23:59"
        raise ValueError(f"'{text}' is not a time of day as HH:MM ({allowed})")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def load_timezone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ``ValueError`` when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"'{name}' is not a known IANA timezone") from exc


@dataclass(frozen=True, order=True)
class Slot:
    """Open from ``start`` to ``end``, in minutes after local midnight (``end`` up to 1440)."""

    start: int
    end: int

    @classmethod
    def parse(cls, start: str, end: str) -> Slot:
        slot = cls(parse_clock(start), parse_clock(end, end=True))
        if slot.start >= slot.end:
            raise ValueError(
                f"a slot must start before it ends ({start}-{end}); "
                "split an overnight slot at midnight into two (…-24:00 and 00:00-…)"
            )
        return slot


def ordered_slots(slots: Iterable[Slot]) -> tuple[Slot, ...]:
    """The slots of one day in order; ``ValueError`` if two overlap (touching is fine)."""
    ordered = tuple(sorted(slots))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            raise ValueError(
                f"slots {format_clock(before.start)}-{format_clock(before.end)} and "
                f"{format_clock(after.start)}-{format_clock(after.end)} overlap"
            )
    return ordered


@dataclass(frozen=True)
class WeeklySchedule:
    timezone: ZoneInfo
    #: seven days of slots, Monday first
    week: tuple[tuple[Slot, ...], ...]
    #: dates with their own slots instead of the weekday's; no slots means closed all day
    exceptions: Mapping[date, tuple[Slot, ...]] = field(default_factory=dict)

    def slots_on(self, day: date) -> tuple[Slot, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        return self.week[day.weekday()]


@dataclass(frozen=True)
class ScheduleStatus:
    is_open: bool
    #: the next instant (UTC) the team opens or closes; ``None`` if it never does
    next_change: datetime | None


def status_at(schedule: WeeklySchedule, at: datetime) -> ScheduleStatus:
    """Whether the team is open at ``at`` (an aware datetime) and when that next changes."""
    if at.tzinfo is None:
        raise ValueError("'at' must be timezone-aware")
    at = at.astimezone(UTC)
    # the day before is included: a slot of yesterday may end after midnight around a DST change
    first_day = at.astimezone(schedule.timezone).date() - timedelta(days=1)
    for opens, closes in _open_periods(schedule, first_day):
        if closes is not None and closes <= at:
            continue
        if opens <= at:
            return ScheduleStatus(is_open=True, next_change=closes)
        return ScheduleStatus(is_open=False, next_change=opens)
    return ScheduleStatus(is_open=False, next_change=None)


def _open_periods(schedule: WeeklySchedule, first_day: date) -> Iterator[tuple[datetime, datetime | None]]:
    """Open periods in UTC, back-to-back ones merged, in order, over ``SEARCH_DAYS`` days from
    ``first_day``. A period still open at the end of the search closes ``None`` (never)."""
    current: tuple[datetime, datetime] | None = None
    last_day = first_day + timedelta(days=SEARCH_DAYS)
    day = first_day
    while day <= last_day:
        for slot in schedule.slots_on(day):
            opens = _instant(schedule.timezone, day, slot.start, earliest=True)
            closes = _instant(schedule.timezone, day, slot.end, earliest=False)
            if opens >= closes:  # wholly inside a skipped hour: it does not happen that day
                continue
            if current is not None and opens <= current[1]:
                current = (current[0], max(current[1], closes))
                continue
            if current is not None:
                yield current
            current = (opens, closes)
        day += timedelta(days=1)
    if current is not None:
        search_end = _instant(schedule.timezone, last_day, END_OF_DAY, earliest=True)
        yield (current[0], None) if current[1] >= search_end else current


def _instant(zone: ZoneInfo, day: date, minutes: int, *, earliest: bool) -> datetime:
    """The UTC instant at which the wall clock of ``zone`` reads ``minutes`` on ``day``.

    A repeated wall time gives its first occurrence if ``earliest`` else its second; a skipped wall
    time gives the instant the clocks jump over it.
    """
    if minutes == END_OF_DAY:
        day, minutes = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first <= second:  # unambiguous (equal) or repeated (first < second)
        return first if earliest else second
    # skipped: fold=0 reads it with the offset before the jump, fold=1 with the one after
    return _offset_change_between(zone, second, first)


def _offset_change_between(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first second in ``(before, after]`` at which ``zone``'s UTC offset differs from before."""
    offset_before = before.astimezone(zone).utcoffset()
    low, high = int(before.timestamp()), int(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)
