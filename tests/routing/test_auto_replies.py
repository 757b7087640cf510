"""The off-hours reply (once per conversation per closed period) and the maintenance message (once
per conversation per activation), sent as SYSTEM messages through the outbound pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cxinbox.models.inbox import Direction, SenderType
from cxinbox.models.routing import AutoReplyKind, RoutingSettings
from cxinbox.routing.auto_replies import _due
from tests.fixtures.whatsapp import messages_of

CLOSED = "We are closed, we answer from 9:00."
DOWN = "We are under maintenance."


async def system_replies(runtime, routing, conversation_id: str) -> list[str]:
    return [
        m.text
        for m in await messages_of(runtime, routing.inbox.org.id)
        if m.conversation_id == conversation_id
        and m.direction is Direction.OUTBOUND
        and m.sender_type is SenderType.SYSTEM
    ]


async def put(client, routing, path: str, body: dict) -> dict:
    r = await client.put(f"/routing-rules/{path}", json=body, headers=routing.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


@pytest.fixture
async def closed(client, routing):
    """Business hours with no opening hours: always closed."""
    await put(client, routing, "business-hours", {"timezone": "Europe/Madrid", "isEnabled": True})
    return routing


async def test_the_off_hours_reply_goes_once_per_conversation(client, closed, runtime):
    data = await put(client, closed, "off-hours", {"offHoursAutoReply": True, "offHoursMessage": CLOSED})
    assert data == {"offHoursAutoReply": True, "offHoursMessage": CLOSED}
    r = await client.get("/routing-rules/off-hours", headers=closed.inbox.agent.headers)
    assert r.json()["data"] == data
    wa_id = "5511911110000"
    first = await closed.writes_now("hello?", wa_id=wa_id)
    assert await closed.writes_now("anyone?", wa_id=wa_id) == first
    assert await system_replies(runtime, closed, first) == [CLOSED]
    other = await closed.writes_now("hi")
    assert await system_replies(runtime, closed, other) == [CLOSED]


async def test_no_reply_outside_the_24_hour_window(client, closed, runtime):
    """A message stamped over a day ago (a late delivery): the window is closed, nothing is sent."""
    await put(client, closed, "off-hours", {"offHoursAutoReply": True, "offHoursMessage": CLOSED})
    conversation_id = await closed.inbox.customer_writes("hello")
    assert await system_replies(runtime, closed, conversation_id) == []


async def test_no_reply_while_open_or_switched_off(client, routing, runtime):
    await put(client, routing, "off-hours", {"offHoursAutoReply": True, "offHoursMessage": CLOSED})
    conversation_id = await routing.writes_now("hello")  # business hours disabled: open
    assert await system_replies(runtime, routing, conversation_id) == []
    await put(client, routing, "business-hours", {"timezone": "UTC", "isEnabled": True})
    await put(client, routing, "off-hours", {"offHoursAutoReply": False})
    conversation_id = await routing.writes_now("hello")
    assert await system_replies(runtime, routing, conversation_id) == []


def test_each_closed_period_is_its_own():
    """Open Mondays 09:00-17:00 (Madrid): the nights before two Mondays are two periods."""
    settings = RoutingSettings(
        organization_id="o",
        business_hours_enabled=True,
        business_timezone="Europe/Madrid",
        business_slots=[{"day": "monday", "start": "09:00", "end": "17:00"}],
        business_exceptions=[],
        off_hours_auto_reply=True,
        off_hours_message=CLOSED,
        maintenance_mode=False,
    )
    sunday = _due(settings, datetime(2026, 3, 29, 20, 0, tzinfo=UTC))
    saturday = _due(settings, datetime(2026, 3, 28, 20, 0, tzinfo=UTC))
    next_sunday = _due(settings, datetime(2026, 4, 5, 20, 0, tzinfo=UTC))
    assert sunday and saturday and next_sunday
    assert sunday[0] is AutoReplyKind.OFF_HOURS
    assert sunday[1] == saturday[1] == "2026-03-30T07:00:00Z"  # Monday 09:00 CEST, after the DST change
    assert next_sunday[1] == "2026-04-06T07:00:00Z"
    assert _due(settings, datetime(2026, 3, 30, 8, 0, tzinfo=UTC)) is None  # open


async def test_maintenance_message_once_per_activation_and_before_off_hours(client, closed, runtime):
    await put(client, closed, "off-hours", {"offHoursAutoReply": True, "offHoursMessage": CLOSED})
    data = await put(client, closed, "maintenance", {"maintenanceMode": True, "maintenanceMessage": DOWN})
    assert data["maintenanceMode"] is True and data["maintenanceMessage"] == DOWN
    assert data["maintenanceSince"]
    wa_id = "5511922220000"
    conversation_id = await closed.writes_now("hello", wa_id=wa_id)
    await closed.writes_now("again", wa_id=wa_id)
    assert await system_replies(runtime, closed, conversation_id) == [DOWN]
    # on again with no change: the same activation
    await put(client, closed, "maintenance", {"maintenanceMode": True})
    await closed.writes_now("still?", wa_id=wa_id)
    assert await system_replies(runtime, closed, conversation_id) == [DOWN]
    # off: the off-hours reply is due; off and on again: a new activation
    await put(client, closed, "maintenance", {"maintenanceMode": False})
    await closed.writes_now("and now?", wa_id=wa_id)
    assert await system_replies(runtime, closed, conversation_id) == [DOWN, CLOSED]
    await put(client, closed, "maintenance", {"maintenanceMode": True})
    await closed.writes_now("and now?", wa_id=wa_id)
    assert await system_replies(runtime, closed, conversation_id) == [DOWN, CLOSED, DOWN]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("off-hours", {"offHoursAutoReply": True}),
        ("off-hours", {"offHoursAutoReply": True, "offHoursMessage": "x" * 4097}),
        ("off-hours", {"offHoursAutoReply": True, "offHoursMessage": "   "}),
        ("off-hours", {"offHoursMessage": "x"}),
        ("maintenance", {"maintenanceMode": True}),
        ("maintenance", {"maintenanceMode": "often", "maintenanceMessage": "x"}),
        ("maintenance", {"maintenanceMode": True, "maintenanceMessage": "x" * 4097}),
    ],
)
async def test_bad_settings_are_400(client, routing, path, body):
    r = await client.put(f"/routing-rules/{path}", json=body, headers=routing.admin.headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
