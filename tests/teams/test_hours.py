"""The pure working-hours computation, asked at chosen instants (DST changes above all).

2026 changes: America/New_York 03-08 07:00Z (02:00 EST -> 03:00 EDT) and 11-01 06:00Z
(02:00 EDT -> 01:00 EST); Europe/Madrid 03-29 01:00Z (02:00 CET -> 03:00 CEST) and 10-25 01:00Z
(03:00 CEST -> 02:00 CET).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from cxinbox.teams.hours import (
    Slot,
    WeeklySchedule,
    load_timezone,
    ordered_slots,
    parse_clock,
    status_at,
)

NEW_YORK = "America/New_York"
MADRID = "Europe/Madrid"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def slots(*pairs: tuple[str, str]) -> tuple[Slot, ...]:
    return ordered_slots(Slot.parse(start, end) for start, end in pairs)


def every_day(zone: str, *pairs: tuple[str, str], exceptions=None) -> WeeklySchedule:
    return WeeklySchedule(load_timezone(zone), (slots(*pairs),) * 7, exceptions or {})


def weekdays(zone: str, *pairs: tuple[str, str], exceptions=None) -> WeeklySchedule:
    return WeeklySchedule(load_timezone(zone), (slots(*pairs),) * 5 + ((), ()), exceptions or {})


def check(schedule: WeeklySchedule, at: str, is_open: bool, next_change: str | None) -> None:
    status = status_at(schedule, utc(at))
    assert (status.is_open, status.next_change) == (is_open, next_change and utc(next_change))


# --- parsing and validation ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["9:00", "24:00", "23:60", "25:00", "12:5", "ab:cd", "", "12:00:00"])
def test_a_start_must_be_hh_mm_of_the_day(text):
    with pytest.raises(ValueError):
        parse_clock(text)


def test_an_end_may_be_the_end_of_the_day():
    assert parse_clock("24:00", end=True) == 1440
    with pytest.raises(ValueError):
        parse_clock("24:01", end=True)


@pytest.mark.parametrize(("start", "end"), [("10:00", "09:00"), ("10:00", "10:00"), ("22:00", "06:00")])
def test_a_slot_starts_before_it_ends(start, end):
    with pytest.raises(ValueError, match="start before"):
        Slot.parse(start, end)


def test_slots_of_a_day_may_touch_but_not_overlap():
    assert slots(("13:00", "17:00"), ("09:00", "13:00")) == (Slot(540, 780), Slot(780, 1020))
    with pytest.raises(ValueError, match="overlap"):
        slots(("09:00", "13:00"), ("12:59", "17:00"))


def test_unknown_timezone():
    with pytest.raises(ValueError, match="IANA"):
        load_timezone("Mars/Olympus_Mons")


def test_the_instant_must_be_aware():
    with pytest.raises(ValueError):
        status_at(every_day(MADRID, ("09:00", "17:00")), datetime(2026, 3, 29, 12))


# --- a normal slot keeps its local hours on both sides of a change ----------------------------


@pytest.mark.parametrize(
    ("zone", "at", "is_open", "next_change"),
    [
        # New York, spring forward (Sunday 2026-03-08)
        (NEW_YORK, "2026-03-07T14:00:00Z", True, "2026-03-07T22:00:00Z"),  # 09:00 EST: opens
        (NEW_YORK, "2026-03-07T22:00:00Z", False, "2026-03-08T13:00:00Z"),  # 17:00 EST -> 09:00 EDT
        (NEW_YORK, "2026-03-08T07:00:00Z", False, "2026-03-08T13:00:00Z"),  # at the change itself
        (NEW_YORK, "2026-03-08T12:59:59Z", False, "2026-03-08T13:00:00Z"),
        (NEW_YORK, "2026-03-08T13:00:00Z", True, "2026-03-08T21:00:00Z"),  # 09:00-17:00 EDT
        (NEW_YORK, "2026-03-08T21:00:00Z", False, "2026-03-09T13:00:00Z"),
        # New York, fall back (Sunday 2026-11-01)
        (NEW_YORK, "2026-10-31T20:00:00Z", True, "2026-10-31T21:00:00Z"),  # 16:00 EDT
        (NEW_YORK, "2026-10-31T21:00:00Z", False, "2026-11-01T14:00:00Z"),  # 17:00 EDT -> 09:00 EST
        (NEW_YORK, "2026-11-01T06:00:00Z", False, "2026-11-01T14:00:00Z"),  # at the change itself
        (NEW_YORK, "2026-11-01T13:30:00Z", False, "2026-11-01T14:00:00Z"),  # 08:30 EST
        (NEW_YORK, "2026-11-01T21:59:00Z", True, "2026-11-01T22:00:00Z"),  # 16:59 EST
        # Madrid, spring forward (Sunday 2026-03-29)
        (MADRID, "2026-03-28T15:00:00Z", True, "2026-03-28T16:00:00Z"),  # 16:00 CET
        (MADRID, "2026-03-28T16:00:00Z", False, "2026-03-29T07:00:00Z"),  # 17:00 CET -> 09:00 CEST
        (MADRID, "2026-03-29T01:00:00Z", False, "2026-03-29T07:00:00Z"),  # at the change itself
        (MADRID, "2026-03-29T07:00:00Z", True, "2026-03-29T15:00:00Z"),
        # Madrid, fall back (Sunday 2026-10-25)
        (MADRID, "2026-10-24T14:59:00Z", True, "2026-10-24T15:00:00Z"),  # 16:59 CEST
        (MADRID, "2026-10-24T15:00:00Z", False, "2026-10-25T08:00:00Z"),  # 17:00 CEST -> 09:00 CET
        (MADRID, "2026-10-25T01:00:00Z", False, "2026-10-25T08:00:00Z"),  # at the change itself
        (MADRID, "2026-10-25T08:00:00Z", True, "2026-10-25T16:00:00Z"),
    ],
)
def test_nine_to_five_is_local_on_both_sides_of_a_change(zone, at, is_open, next_change):
    check(every_day(zone, ("09:00", "17:00")), at, is_open, next_change)


# --- slots that reach into the skipped hour (spring forward) -------------------------------------


def test_a_slot_starting_in_the_skipped_hour_opens_when_the_clocks_jump():
    schedule = every_day(MADRID, ("02:30", "05:00"))  # 02:00-03:00 does not exist on 03-29
    check(schedule, "2026-03-29T00:59:59Z", False, "2026-03-29T01:00:00Z")
    check(schedule, "2026-03-29T01:00:00Z", True, "2026-03-29T03:00:00Z")  # exactly at the change
    check(schedule, "2026-03-29T03:00:00Z", False, "2026-03-30T00:30:00Z")  # 02:30 CEST next day


def test_a_slot_ending_in_the_skipped_hour_closes_when_the_clocks_jump():
    schedule = every_day(NEW_YORK, ("01:00", "02:30"))  # 02:00-03:00 does not exist on 03-08
    check(schedule, "2026-03-08T05:00:00Z", False, "2026-03-08T06:00:00Z")  # 00:00 EST
    check(schedule, "2026-03-08T06:00:00Z", True, "2026-03-08T07:00:00Z")  # 01:00 EST, open 1h
    check(schedule, "2026-03-08T07:00:00Z", False, "2026-03-09T05:00:00Z")  # 01:00 EDT next day


def test_a_slot_wholly_inside_the_skipped_hour_does_not_happen_that_day():
    schedule = every_day(MADRID, ("02:00", "02:30"))
    check(schedule, "2026-03-28T01:30:00Z", False, "2026-03-30T00:00:00Z")  # skips 03-29
    check(schedule, "2026-03-29T01:00:00Z", False, "2026-03-30T00:00:00Z")


def test_a_slot_spanning_the_skipped_hour_is_shorter_by_it():
    schedule = every_day(MADRID, ("01:00", "04:00"))
    check(schedule, "2026-03-29T00:00:00Z", True, "2026-03-29T02:00:00Z")  # 01:00 CET to 04:00 CEST
    check(schedule, "2026-03-29T01:00:00Z", True, "2026-03-29T02:00:00Z")  # exactly at the change


# --- slots that touch the repeated hour (fall back) ----------------------------------------------


def test_a_slot_spanning_the_repeated_hour_is_longer_by_it():
    schedule = every_day(NEW_YORK, ("00:00", "03:00"))
    check(schedule, "2026-11-01T04:00:00Z", True, "2026-11-01T08:00:00Z")  # 00:00 EDT to 03:00 EST
    check(schedule, "2026-11-01T06:00:00Z", True, "2026-11-01T08:00:00Z")  # exactly at the change


def test_a_slot_starting_in_the_repeated_hour_opens_at_its_first_occurrence():
    schedule = every_day(NEW_YORK, ("01:30", "03:00"))
    check(schedule, "2026-11-01T05:00:00Z", False, "2026-11-01T05:30:00Z")  # 01:30 EDT
    check(schedule, "2026-11-01T06:00:00Z", True, "2026-11-01T08:00:00Z")  # 01:00 EST: still open


def test_a_slot_ending_in_the_repeated_hour_closes_at_its_second_occurrence():
    schedule = every_day(MADRID, ("01:00", "02:30"))  # 02:00-03:00 happens twice on 10-25
    check(schedule, "2026-10-24T23:00:00Z", True, "2026-10-25T01:30:00Z")  # 01:00 CEST
    check(schedule, "2026-10-25T00:45:00Z", True, "2026-10-25T01:30:00Z")  # 02:45 CEST: not a gap
    check(schedule, "2026-10-25T01:30:00Z", False, "2026-10-26T00:00:00Z")  # 02:30 CET


def test_a_slot_wholly_inside_the_repeated_hour_covers_both_occurrences():
    schedule = every_day(MADRID, ("02:15", "02:45"))
    check(schedule, "2026-10-25T00:15:00Z", True, "2026-10-25T01:45:00Z")
    check(schedule, "2026-10-25T01:00:00Z", True, "2026-10-25T01:45:00Z")  # exactly at the change


# --- merging, holidays, empty weeks --------------------------------------------------------------


def test_back_to_back_slots_are_one_period_even_across_midnight():
    schedule = every_day(MADRID, ("09:00", "13:00"), ("13:00", "17:00"), ("22:00", "24:00"))
    schedule = WeeklySchedule(
        schedule.timezone, (schedule.week[0], slots(("00:00", "06:00"), ("09:00", "17:00"))) + ((),) * 5
    )
    check(schedule, "2026-06-01T08:00:00Z", True, "2026-06-01T15:00:00Z")  # Mon 10:00, no 13:00 change
    check(schedule, "2026-06-01T21:00:00Z", True, "2026-06-02T04:00:00Z")  # Mon 23:00 -> Tue 06:00


def test_the_next_change_search_crosses_a_holiday_and_a_weekend():
    christmas = date(2026, 12, 25)  # a Friday
    schedule = weekdays(MADRID, ("09:00", "17:00"), exceptions={christmas: ()})
    check(schedule, "2026-12-24T16:00:00Z", False, "2026-12-28T08:00:00Z")  # Thu 17:00 -> Mon 09:00
    check(schedule, "2026-12-25T10:00:00Z", False, "2026-12-28T08:00:00Z")


def test_a_holiday_follows_the_local_date():
    schedule = every_day(MADRID, ("00:00", "24:00"), exceptions={date(2026, 12, 25): ()})
    check(schedule, "2026-12-24T22:59:00Z", True, "2026-12-24T23:00:00Z")  # 23:59 local on the 24th
    check(schedule, "2026-12-24T23:30:00Z", False, "2026-12-25T23:00:00Z")  # 00:30 local on the 25th


def test_a_date_with_its_own_hours():
    eve = date(2026, 12, 24)
    schedule = weekdays(MADRID, ("09:00", "17:00"), exceptions={eve: slots(("10:00", "13:00"))})
    check(schedule, "2026-12-24T08:30:00Z", False, "2026-12-24T09:00:00Z")  # 09:30: not yet
    check(schedule, "2026-12-24T11:00:00Z", True, "2026-12-24T12:00:00Z")  # closes at 13:00


def test_a_week_without_slots_never_changes():
    check(every_day(MADRID), "2026-03-29T01:00:00Z", False, None)


def test_a_week_without_slots_opens_on_a_date_with_its_own_hours():
    schedule = every_day(NEW_YORK, exceptions={date(2026, 11, 1): slots(("09:00", "10:00"))})
    check(schedule, "2026-06-15T12:00:00Z", False, "2026-11-01T14:00:00Z")


def test_open_around_the_clock_never_changes():
    check(every_day(NEW_YORK, ("00:00", "24:00")), "2026-11-01T06:00:00Z", True, None)
    check(every_day(MADRID, ("00:00", "24:00")), "2026-03-29T01:00:00Z", True, None)


def test_open_around_the_clock_closes_for_a_holiday():
    schedule = every_day(NEW_YORK, ("00:00", "24:00"), exceptions={date(2027, 1, 1): ()})
    check(schedule, "2026-11-01T06:00:00Z", True, "2027-01-01T05:00:00Z")


# --- properties over many random schedules and instants -----------------------------------------

ZONES = (NEW_YORK, MADRID, "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago", "Pacific/Apia")


def _random_day(rng: random.Random) -> tuple[Slot, ...]:
    marks = sorted(rng.sample(range(0, 1441, 30), rng.choice((0, 2, 2, 4, 6))))
    return tuple(Slot(a, b) for a, b in zip(marks[::2], marks[1::2], strict=True))


def _random_schedule(rng: random.Random) -> WeeklySchedule:
    week = tuple(_random_day(rng) for _ in range(7))
    holidays = {date(2026, 1, 1) + timedelta(days=rng.randrange(365)): _random_day(rng) for _ in range(5)}
    return WeeklySchedule(load_timezone(rng.choice(ZONES)), week, holidays)


def test_the_state_holds_until_the_next_change_and_flips_there():
    rng = random.Random(20260329)
    for _ in range(400):
        schedule = _random_schedule(rng)
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        now = status_at(schedule, at)
        if now.next_change is None:
            later = at + timedelta(days=rng.randrange(1, 30), minutes=rng.randrange(1440))
            assert status_at(schedule, later).is_open == now.is_open
            continue
        assert now.next_change > at
        between = at + (now.next_change - at) * rng.random()
        assert status_at(schedule, between) == now
        assert status_at(schedule, now.next_change - timedelta(seconds=1)).is_open == now.is_open
        assert status_at(schedule, now.next_change).is_open != now.is_open


def test_away_from_changes_open_means_the_wall_clock_is_inside_a_slot():
    rng = random.Random(1)
    for _ in range(400):
        schedule = _random_schedule(rng)
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        zone = schedule.timezone
        if {(at + timedelta(days=d)).astimezone(zone).utcoffset() for d in (-2, 0, 2)} != {
            at.astimezone(zone).utcoffset()
        }:
            continue  # an offset change nearby: the DST rules above apply
        local = at.astimezone(zone)
        minute = local.hour * 60 + local.minute
        inside = any(s.start <= minute < s.end for s in schedule.slots_on(local.date()))
        assert status_at(schedule, at).is_open == inside
