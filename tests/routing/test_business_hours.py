"""The organization's business hours: stored over HTTP, evaluated with the team schedules' DST rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cxinbox.models.routing import RoutingSettings
from cxinbox.routing.business_hours import business_status

WEEKDAYS_9_TO_5 = [{"day": d, "start": "09:00", "end": "17:00"} for d in ("friday", "monday", "sunday")]


async def test_put_and_get_round_trip(client, routing):
    body = {
        "timezone": "America/Sao_Paulo",
        "isEnabled": True,
        "slots": WEEKDAYS_9_TO_5,
        "exceptions": [{"date": "2026-12-25", "name": "Christmas", "slots": []}],
    }
    r = await client.put("/routing-rules/business-hours", json=body, headers=routing.admin.headers)
    assert r.status_code == 200, r.text
    r = await client.get("/routing-rules/business-hours", headers=routing.inbox.agent.headers)
    data = r.json()["data"]
    assert data["timezone"] == "America/Sao_Paulo" and data["isEnabled"] is True
    assert [s["day"] for s in data["slots"]] == ["monday", "friday", "sunday"]
    assert data["exceptions"][0] == {"date": "2026-12-25", "name": "Christmas", "closed": True, "slots": []}
    assert data["nextChange"] is not None
    # exceptions left out are kept
    r = await client.put(
        "/routing-rules/business-hours", json=body | {"exceptions": None}, headers=routing.admin.headers
    )
    assert len(r.json()["data"]["exceptions"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"timezone": "Mars/Olympus", "isEnabled": True},
        {"isEnabled": True},
        {"timezone": "UTC"},
        {
            "timezone": "UTC",
            "isEnabled": True,
            "slots": [{"day": "funday", "start": "09:00", "end": "10:00"}],
        },
        {
            "timezone": "UTC",
            "isEnabled": True,
            "slots": [{"day": "monday", "start": "10:00", "end": "09:00"}],
        },
        {
            "timezone": "UTC",
            "isEnabled": True,
            "slots": [
                {"day": "monday", "start": "09:00", "end": "12:00"},
                {"day": "monday", "start": "11:00", "end": "13:00"},
            ],
        },
    ],
)
async def test_bad_hours_are_400(client, routing, body):
    r = await client.put("/routing-rules/business-hours", json=body, headers=routing.admin.headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def _hours(slots, timezone="Europe/Madrid") -> RoutingSettings:
    return RoutingSettings(
        organization_id="o",
        business_hours_enabled=True,
        business_timezone=timezone,
        business_slots=slots,
        business_exceptions=[],
    )


def test_hours_follow_the_clock_change():
    """Madrid springs forward on 2026-03-29 (02:00 -> 03:00): 09:00 local is 08:00 UTC the day
    before and 07:00 UTC that day."""
    hours = _hours([{"day": d, "start": "09:00", "end": "17:00"} for d in ("saturday", "sunday")])
    assert business_status(hours, datetime(2026, 3, 28, 8, 0, tzinfo=UTC)).is_open
    assert not business_status(hours, datetime(2026, 3, 28, 7, 59, tzinfo=UTC)).is_open
    assert business_status(hours, datetime(2026, 3, 29, 7, 0, tzinfo=UTC)).is_open
    assert not business_status(hours, datetime(2026, 3, 29, 6, 59, tzinfo=UTC)).is_open
    closes = business_status(hours, datetime(2026, 3, 29, 12, 0, tzinfo=UTC)).next_change
    assert closes == datetime(2026, 3, 29, 15, 0, tzinfo=UTC)


def test_disabled_hours_are_always_open():
    hours = _hours([])
    assert not business_status(hours, datetime(2026, 3, 29, 12, 0, tzinfo=UTC)).is_open
    hours.business_hours_enabled = False
    assert business_status(hours, datetime(2026, 3, 29, 12, 0, tzinfo=UTC)).is_open
