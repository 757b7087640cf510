"""The date range every analytics endpoint reads, and its buckets in the caller's timezone.

``from`` and ``to`` are instants (a value without an offset is read as wall-clock time in
``timezone``); the range is ``[from, to)``. Buckets are the calendar days of ``timezone`` (hours when
the range is 2 days or less), cut at that zone's own midnights, so a day that changes clock is 23 or
25 hours long and an hour bucket is never doubled or lost. The first and last buckets are clipped to
the range.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxinbox.core.clock import utcnow
from cxinbox.core.errors import ValidationFailed

DEFAULT_TIMEZONE = "America/Mexico_City"
DEFAULT_DAYS = 30
MAX_DAYS = 366
#: a range this short or shorter is cut in hours
HOURLY_UP_TO = timedelta(days=2)
#: every zone's offset (and so every local midnight and hour) is a multiple of this, in UTC
SLOT_SECONDS = 900
_SLOT = timedelta(seconds=SLOT_SECONDS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PARAMETERS_HELP = (
    "`from` and `to` (ISO 8601; without an offset, wall-clock time in `timezone`) bound the range "
    f"`[from, to)`, by default the last {DEFAULT_DAYS} days; `timezone` is an IANA zone name "
    f"(default `{DEFAULT_TIMEZONE}`). Series are cut in that zone's calendar days, or hours when the "
    "range is 2 days or less, across clock changes (a day may be 23 or 25 hours). An unknown "
    f"timezone, `from` later than `to` or a range over {MAX_DAYS} days answers 400."
)


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    #: the bucket's start as wall-clock time in the zone, with its offset
    local_start: datetime


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    zone: ZoneInfo

    @property
    def hourly(self) -> bool:
        return self.end - self.start <= HOURLY_UP_TO

    @property
    def granularity(self) -> str:
        return "hour" if self.hourly else "day"

    def split(self) -> tuple[tuple[int, int] | None, list[Period]]:
        """The whole slots inside the range, ``(first, end)``, which the rollups answer, and the
        pieces at either end shorter than a slot, which are read from the rows themselves."""
        first = -((_EPOCH - self.start) // _SLOT)
        end = (self.end - _EPOCH) // _SLOT
        if first >= end:
            return None, [self]
        inner = (_EPOCH + first * _SLOT, _EPOCH + end * _SLOT)
        edges = [Period(self.start, inner[0], self.zone), Period(inner[1], self.end, self.zone)]
        return (first, end), [edge for edge in edges if edge.start < edge.end]

    def buckets(self) -> list[Bucket]:
        edges = [self.start, *self._boundaries(), self.end]
        return [
            Bucket(a, b, a.astimezone(self.zone)) for a, b in zip(edges, edges[1:], strict=False) if a < b
        ]

    def _boundaries(self) -> list[datetime]:
        """The zone's midnights (or hours) strictly inside the range, as UTC instants."""
        if self.hourly:
            local = self.start.astimezone(self.zone)
            first = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC) + timedelta(hours=1)
            count = int((self.end - first) / timedelta(hours=1)) + 1
            return [
                t for t in (first + timedelta(hours=i) for i in range(count)) if self.start < t < self.end
            ]
        day: date = self.start.astimezone(self.zone).date() + timedelta(days=1)
        found = []
        while (midnight := datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)) < self.end:
            found.append(midnight)
            day += timedelta(days=1)
        return found


class Bucketer:
    """Folds counts per UTC slot (``SLOT_SECONDS``, as the queries group them) into the buckets."""

    def __init__(self, buckets: list[Bucket]) -> None:
        self.starts = [b.start.timestamp() for b in buckets]

    def index(self, slot: int) -> int:
        return max(bisect.bisect_right(self.starts, slot * SLOT_SECONDS) - 1, 0)

    def grouping(self) -> tuple[int, int]:
        """``(unit, shift)``: the most slots (a day's, an hour's or one) that can be counted together
        with every group inside one bucket: groups of ``unit`` slots starting at ``shift`` modulo
        ``unit``, which every bucket edge is. A range in one offset groups by days, one across a
        clock change by hours, a zone with a quarter-hour offset's hours at that quarter."""
        edges = [int(start) // SLOT_SECONDS for start in self.starts[1:]]
        for unit in (96, 4):
            if len({edge % unit for edge in edges}) <= 1:
                return unit, edges[0] % unit if edges else 0
        return 1, 0


def parse_period(start: datetime | None, end: datetime | None, timezone: str | None) -> Period:
    zone = _zone(timezone or DEFAULT_TIMEZONE)
    end_utc = _instant(end, zone) if end is not None else utcnow()
    start_utc = _instant(start, zone) if start is not None else end_utc - timedelta(days=DEFAULT_DAYS)
    if start_utc > end_utc:
        raise ValidationFailed.field("from", "must not be later than `to`")
    if end_utc - start_utc > timedelta(days=MAX_DAYS):
        raise ValidationFailed.field("to", f"the range is at most {MAX_DAYS} days")
    return Period(start_utc, end_utc, zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed.field("timezone", "not a known IANA timezone") from None


def _instant(value: datetime, zone: ZoneInfo) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
