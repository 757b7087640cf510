"""Reading and saving a team's working hours, and asking whether it is open now."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.teams.conftest import events

ALL_DAY = [{"start": "00:00", "end": "24:00"}]
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


async def put(client, teams, body):
    return await client.put(f"/teams/{teams.team_id}/schedule", json=body, headers=teams.admin.headers)


async def test_a_team_without_a_schedule_is_always_open(client, teams):
    r = await client.get(f"/teams/{teams.team_id}/schedule", headers=teams.team_agent.headers)
    assert r.status_code == 200
    assert r.json()["data"] | {"weeklyHours": None} == {
        "teamId": teams.team_id,
        "configured": False,
        "timezone": "UTC",
        "weeklyHours": None,
        "exceptions": [],
        "updatedAt": None,
    }
    r = await client.get(f"/teams/{teams.team_id}/schedule/status", headers=teams.team_agent.headers)
    assert r.status_code == 200
    status = r.json()["data"]
    assert (status["configured"], status["isOpen"], status["nextChange"]) == (False, True, None)
    assert status["checkedAt"].endswith("Z")


async def test_save_and_read_a_schedule(client, teams, runtime):
    body = {
        "timezone": "Europe/Madrid",
        "weeklyHours": {
            "monday": [{"start": "15:00", "end": "19:00"}, {"start": "09:00", "end": "13:00"}],
            "friday": [{"start": "09:00", "end": "14:00"}],
            "saturday": [{"start": "22:00", "end": "24:00"}],
        },
        "exceptions": [
            {"date": "2026-12-25", "name": "Christmas"},
            {"date": "2026-12-24", "slots": [{"start": "09:00", "end": "13:00"}], "closed": False},
        ],
    }
    r = await put(client, teams, body)
    assert r.status_code == 200, r.text
    saved = r.json()["data"]
    assert saved["configured"] is True
    assert saved["timezone"] == "Europe/Madrid"
    assert saved["weeklyHours"]["monday"] == [
        {"start": "09:00", "end": "13:00"},
        {"start": "15:00", "end": "19:00"},
    ]
    assert saved["weeklyHours"]["sunday"] == []
    assert saved["exceptions"] == [
        {"date": "2026-12-24", "name": None, "closed": False, "slots": [{"start": "09:00", "end": "13:00"}]},
        {"date": "2026-12-25", "name": "Christmas", "closed": True, "slots": []},
    ]
    r = await client.get(f"/teams/{teams.team_id}/schedule", headers=teams.supervisor.headers)
    assert r.json()["data"] == saved
    assert (await events(runtime, teams.org.id))[-1].type == "team.updated"


async def test_a_put_with_only_a_timezone_keeps_the_hours(client, teams):
    await put(client, teams, {"timezone": "Europe/Madrid", "weeklyHours": {"monday": ALL_DAY}})
    r = await put(client, teams, {"timezone": "America/New_York"})
    assert r.status_code == 200
    assert (r.json()["data"]["timezone"], r.json()["data"]["weeklyHours"]["monday"]) == (
        "America/New_York",
        ALL_DAY,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "timezone"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        (
            {"timezone": "UTC", "weeklyHours": {"monday": [{"start": "9:00", "end": "13:00"}]}},
            "weeklyHours.monday.0.start",
        ),
        (
            {"timezone": "UTC", "weeklyHours": {"monday": [{"start": "24:00", "end": "24:00"}]}},
            "weeklyHours.monday.0.start",
        ),
        (
            {"timezone": "UTC", "weeklyHours": {"monday": [{"start": "09:00", "end": "25:00"}]}},
            "weeklyHours.monday.0.end",
        ),
        (
            {"timezone": "UTC", "weeklyHours": {"monday": [{"start": "22:00", "end": "06:00"}]}},
            "weeklyHours.monday.0",
        ),
        ({"timezone": "UTC", "weeklyHours": {"monday": [{"start": "09:00"}]}}, "weeklyHours.monday.0.end"),
        (
            {"timezone": "UTC", "weeklyHours": {"tuesday": [ALL_DAY[0], {"start": "10:00", "end": "11:00"}]}},
            "weeklyHours.tuesday",
        ),
        ({"timezone": "UTC", "weeklyHours": {"mon": ALL_DAY}}, "weeklyHours.mon"),
        ({"timezone": "UTC", "exceptions": [{"date": "2026-02-30"}]}, "exceptions.0.date"),
        (
            {"timezone": "UTC", "exceptions": [{"date": "2026-12-25", "closed": True, "slots": ALL_DAY}]},
            "exceptions.0",
        ),
        ({"timezone": "UTC", "exceptions": [{"date": "2026-12-25", "closed": False}]}, "exceptions.0"),
        ({"timezone": "UTC", "exceptions": [{"date": "2026-12-25"}, {"date": "2026-12-25"}]}, "exceptions"),
    ],
)
async def test_put_validates_the_schedule(client, teams, body, field):
    r = await put(client, teams, body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"][0]["field"] == field


async def test_a_schedule_holds_at_most_a_year_of_exceptions(client, teams):
    first = datetime(2027, 1, 1)
    exceptions = [{"date": (first + timedelta(days=n)).date().isoformat()} for n in range(367)]
    r = await put(client, teams, {"timezone": "UTC", "exceptions": exceptions})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "exceptions"


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Madrid"])
async def test_status_when_open_around_the_clock_until_a_holiday(client, teams, zone):
    holiday = datetime.now(UTC).date() + timedelta(days=100)
    week = dict.fromkeys(WEEK, ALL_DAY)
    r = await put(
        client, teams, {"timezone": zone, "weeklyHours": week, "exceptions": [{"date": holiday.isoformat()}]}
    )
    assert r.status_code == 200, r.text

    r = await client.get(f"/teams/{teams.team_id}/schedule/status", headers=teams.team_agent.headers)
    assert r.status_code == 200
    status = r.json()["data"]
    closes = datetime.combine(holiday, time(0), ZoneInfo(zone)).astimezone(UTC)
    assert (status["configured"], status["isOpen"], status["timezone"]) == (True, True, zone)
    assert status["nextChange"] == closes.isoformat().replace("+00:00", "Z")
    assert datetime.fromisoformat(status["localTime"]).utcoffset() is not None


async def test_status_of_a_week_without_hours(client, teams):
    await put(client, teams, {"timezone": "Asia/Tokyo", "weeklyHours": {}})
    r = await client.get(f"/teams/{teams.team_id}/schedule/status", headers=teams.admin.headers)
    assert (r.json()["data"]["isOpen"], r.json()["data"]["nextChange"]) == (False, None)
