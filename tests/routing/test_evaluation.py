"""Which team a conversation gets: each condition field and operator, priorities, the default team,
and a hostile customer text against a hostile pattern."""

from __future__ import annotations

import pytest

from tests.fixtures.events import stored_events
from tests.routing.conftest import cond


async def team_of(client, routing, conversation_id: str) -> str | None:
    r = await client.get(f"/conversations/{conversation_id}", headers=routing.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]["teamId"]


@pytest.mark.parametrize(
    ("condition", "text", "routed"),
    [
        (cond("messageText", "equals", "hello there"), "Hello There", True),
        (cond("messageText", "equals", "hello"), "hello there", False),
        (cond("messageText", "notEquals", "hello"), "hello there", True),
        (cond("messageText", "notEquals", "hello"), "HELLO", False),
        (cond("messageText", "in", ["yes", "sim"]), "Sim", True),
        (cond("messageText", "in", ["yes", "sim"]), "no", False),
        (cond("messageText", "notIn", ["yes", "sim"]), "no", True),
        (cond("messageText", "notIn", ["yes", "sim"]), "YES", False),
        (cond("messageText", "contains", "invoice"), "Where is my INVOICE?", True),
        (cond("messageText", "contains", "invoice"), "where is my order", False),
        (cond("messageText", "notContains", "invoice"), "where is my order", True),
        (cond("messageText", "notContains", "invoice"), "my invoice", False),
        (cond("messageText", "startsWith", "order #"), "Order #123 is late", True),
        (cond("messageText", "startsWith", "order #"), "my order #123", False),
        (cond("messageText", "regex", r"\border\s*#?\d{3,}\b"), "about order 12345 please", True),
        (cond("messageText", "regex", r"^\d+$"), "about order 12345", False),
    ],
)
async def test_each_operator_on_the_first_message(client, routing, condition, text, routed):
    await routing.rule([condition], team_id=routing.sales_id)
    conversation_id = await routing.inbox.customer_writes(text)
    assert await team_of(client, routing, conversation_id) == (routing.sales_id if routed else None)


async def test_origin_number_and_phone(client, routing):
    wa_id = "5511987654321"
    await routing.rule(
        [
            cond("origin", "equals", "INBOUND"),
            cond("whatsappAccountId", "equals", routing.inbox.account.id),
            cond("contactPhone", "startsWith", "+5511"),
        ],
        team_id=routing.sales_id,
    )
    conversation_id = await routing.inbox.customer_writes("hi", wa_id=wa_id)
    assert await team_of(client, routing, conversation_id) == routing.sales_id
    other = await routing.inbox.customer_writes("hi", wa_id="4420123456")
    assert await team_of(client, routing, other) is None


async def test_category_tag_and_contact_category_route_on_reroute(client, routing):
    """Fields set after the conversation opened: an admin re-routes it."""
    headers = routing.admin.headers
    await routing.rule(
        [
            cond("category", "equals", "billing"),
            cond("contactCategory", "in", ["vip"]),
            cond("tag", "equals", "urgent"),
            cond("tag", "notEquals", "spam"),
        ],
        team_id=routing.sales_id,
    )
    wa_id = "5511900000001"
    conversation_id = await routing.inbox.customer_writes("hi", wa_id=wa_id)
    assert await team_of(client, routing, conversation_id) is None
    r = await client.patch(f"/conversations/{conversation_id}", json={"category": "Billing"}, headers=headers)
    assert r.status_code == 200, r.text
    r = await client.patch(f"/contacts/{wa_id}", json={"category": "VIP"}, headers=headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/conversations/{conversation_id}/re-route", headers=headers)
    assert r.json()["data"]["teamId"] is None  # no tag yet
    r = await client.post("/tags", json={"name": "urgent"}, headers=headers)
    tag_id = r.json()["data"]["id"]
    r = await client.post(f"/conversations/{conversation_id}/tags", json={"tagId": tag_id}, headers=headers)
    assert r.status_code == 201, r.text
    r = await client.post(f"/conversations/{conversation_id}/re-route", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["teamId"] == routing.sales_id


@pytest.mark.parametrize(("enabled", "within"), [(False, True), (True, False)])
async def test_within_business_hours(client, routing, enabled, within):
    """Disabled hours are always open; enabled hours with no slots are always closed."""
    r = await client.put(
        "/routing-rules/business-hours",
        json={"timezone": "Europe/Madrid", "isEnabled": enabled},
        headers=routing.admin.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["isOpen"] is within
    await routing.rule([cond("withinBusinessHours", "equals", True)], team_id=routing.support_id)
    await routing.rule([cond("withinBusinessHours", "notEquals", True)], team_id=routing.sales_id)
    conversation_id = await routing.inbox.customer_writes("hi")
    expected = routing.support_id if within else routing.sales_id
    assert await team_of(client, routing, conversation_id) == expected


async def test_match_type_any_and_all(client, routing):
    both = [cond("messageText", "contains", "refund"), cond("messageText", "contains", "urgent")]
    await routing.rule(both, team_id=routing.support_id, matchType="ALL")
    await routing.rule(both, team_id=routing.sales_id, matchType="ANY")
    assert (
        await team_of(client, routing, await routing.inbox.customer_writes("urgent refund"))
        == routing.support_id
    )
    assert (
        await team_of(client, routing, await routing.inbox.customer_writes("refund please"))
        == routing.sales_id
    )
    assert await team_of(client, routing, await routing.inbox.customer_writes("hello")) is None


async def test_first_active_match_by_priority_wins_else_the_default_team(client, routing):
    headers = routing.admin.headers
    anything = [cond("origin", "equals", "INBOUND")]
    first = await routing.rule(anything, team_id=routing.support_id)
    second = await routing.rule(anything, team_id=routing.sales_id)
    assert await team_of(client, routing, await routing.inbox.customer_writes("a")) == routing.support_id
    r = await client.post(
        "/routing-rules/reorder", json={"orderedIds": [second["id"], first["id"]]}, headers=headers
    )
    assert r.status_code == 200
    assert await team_of(client, routing, await routing.inbox.customer_writes("b")) == routing.sales_id
    await client.patch(f"/routing-rules/{second['id']}", json={"isActive": False}, headers=headers)
    assert await team_of(client, routing, await routing.inbox.customer_writes("c")) == routing.support_id
    await client.delete(f"/routing-rules/{first['id']}", headers=headers)
    assert await team_of(client, routing, await routing.inbox.customer_writes("d")) is None
    r = await client.put("/routing-rules/default-team", json={"teamId": routing.sales_id}, headers=headers)
    assert r.status_code == 200 and r.json()["data"] == {"teamId": routing.sales_id}
    assert (await client.get("/routing-rules/default-team", headers=headers)).json()["data"]["teamId"] == (
        routing.sales_id
    )
    assert await team_of(client, routing, await routing.inbox.customer_writes("e")) == routing.sales_id
    # a rule of a deactivated team does not fire, and a deactivated default team is no default
    await client.patch(f"/routing-rules/{second['id']}", json={"isActive": True}, headers=headers)
    await client.delete(f"/teams/{routing.sales_id}", headers=headers)
    assert await team_of(client, routing, await routing.inbox.customer_writes("f")) is None


async def test_default_team_must_be_an_active_team_of_the_organization(client, routing):
    headers = routing.admin.headers
    r = await client.put(
        "/routing-rules/default-team", json={"teamId": routing.other_team_id}, headers=headers
    )
    assert r.status_code == 404, r.text
    r = await client.put("/routing-rules/default-team", json={"teamId": "not an id"}, headers=headers)
    assert r.status_code == 400, r.text
    await client.delete(f"/teams/{routing.sales_id}", headers=headers)
    r = await client.put("/routing-rules/default-team", json={"teamId": routing.sales_id}, headers=headers)
    assert r.status_code == 400, r.text
    r = await client.put("/routing-rules/default-team", json={"teamId": None}, headers=headers)
    assert r.status_code == 200 and r.json()["data"] == {"teamId": None}


async def test_a_new_conversation_is_created_with_its_team_and_a_timeline_entry(client, routing, runtime):
    await routing.rule([cond("messageText", "contains", "invoice")], team_id=routing.sales_id)
    conversation_id = await routing.inbox.customer_writes("my invoice")
    created = [
        e for e in await stored_events(runtime, routing.inbox.org.id) if e.data.get("id") == conversation_id
    ]
    assert [e.type for e in created][:1] == ["conversation.created"]
    assert created[0].data["teamId"] == routing.sales_id
    r = await client.get(f"/conversations/{conversation_id}", headers=routing.admin.headers)
    entries = [e for e in r.json()["data"]["timeline"] if e["kind"] == "TEAM"]
    assert [(e["to"], e["reason"]) for e in entries] == [(routing.sales_id, "ROUTING")]


async def test_a_hostile_pattern_on_a_hostile_text_does_not_stall_routing(client, routing):
    """A catastrophically backtracking pattern gives up within its time limit: no match."""
    await routing.rule([cond("messageText", "regex", r"^(a|aa)+$")], team_id=routing.sales_id)
    await routing.rule([cond("origin", "equals", "INBOUND")], team_id=routing.support_id)
    conversation_id = await routing.inbox.customer_writes("a" * 4000 + "!")
    assert await team_of(client, routing, conversation_id) == routing.support_id
