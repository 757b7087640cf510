"""Rules over HTTP: create, list by priority, change, delete, reorder, and what a rule may say."""

from __future__ import annotations

import pytest

from tests.routing.conftest import cond

TEXT_HAS_INVOICE = [cond("messageText", "contains", "invoice")]


async def test_rules_are_listed_by_priority_and_new_ones_go_last(client, routing):
    first = await routing.rule(TEXT_HAS_INVOICE, name="billing")
    second = await routing.rule(
        [cond("origin", "equals", "INBOUND")], team_id=routing.sales_id, matchType="ANY"
    )
    assert (first["priority"], second["priority"]) == (0, 1)
    assert first["matchType"] == "ALL" and first["isActive"] is True
    assert second["matchType"] == "ANY"
    for member in (routing.admin, routing.inbox.supervisor, routing.inbox.agent):
        r = await client.get("/routing-rules", headers=member.headers)
        assert r.status_code == 200, r.text
        assert [x["id"] for x in r.json()["data"]] == [first["id"], second["id"]]


async def test_patch_changes_only_what_is_sent(client, routing):
    rule = await routing.rule(TEXT_HAS_INVOICE, name="billing")
    r = await client.patch(
        f"/routing-rules/{rule['id']}",
        json={"teamId": routing.sales_id, "isActive": False},
        headers=routing.admin.headers,
    )
    assert r.status_code == 200, r.text
    changed = r.json()["data"]
    assert changed["teamId"] == routing.sales_id and changed["isActive"] is False
    assert changed["name"] == "billing" and changed["conditions"] == TEXT_HAS_INVOICE
    r = await client.patch(
        f"/routing-rules/{rule['id']}",
        json={"conditions": [cond("tag", "in", ["vip", "gold"])], "matchType": "ANY", "name": "vip"},
        headers=routing.admin.headers,
    )
    assert r.json()["data"]["conditions"] == [cond("tag", "in", ["vip", "gold"])]
    assert r.json()["data"]["name"] == "vip"


async def test_delete_removes_the_rule(client, routing):
    rule = await routing.rule(TEXT_HAS_INVOICE)
    r = await client.delete(f"/routing-rules/{rule['id']}", headers=routing.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"id": rule["id"], "deleted": True}
    r = await client.get("/routing-rules", headers=routing.admin.headers)
    assert r.json()["data"] == []
    r = await client.delete(f"/routing-rules/{rule['id']}", headers=routing.admin.headers)
    assert r.status_code == 404


async def test_reorder_sets_the_priorities(client, routing):
    a, b, c = [await routing.rule(TEXT_HAS_INVOICE, name=n) for n in "abc"]
    order = [c["id"], a["id"], b["id"]]
    r = await client.post("/routing-rules/reorder", json={"orderedIds": order}, headers=routing.admin.headers)
    assert r.status_code == 200, r.text
    assert [(x["id"], x["priority"]) for x in r.json()["data"]] == [(i, n) for n, i in enumerate(order)]
    r = await client.get("/routing-rules", headers=routing.admin.headers)
    assert [x["id"] for x in r.json()["data"]] == order


@pytest.mark.parametrize(
    "ids",
    [
        pytest.param(lambda a, b, other: [a], id="missing-one"),
        pytest.param(lambda a, b, other: [a, b, a], id="repeated"),
        pytest.param(lambda a, b, other: [a, b, other], id="another-organizations-rule"),
        pytest.param(lambda a, b, other: [a, b, "not an id"], id="not-an-id"),
    ],
)
async def test_reorder_must_list_every_rule_once(client, routing, ids):
    a, b = [(await routing.rule(TEXT_HAS_INVOICE))["id"] for _ in range(2)]
    r = await client.post(
        "/routing-rules",
        json={"name": "x", "teamId": routing.other_team_id, "conditions": TEXT_HAS_INVOICE},
        headers=routing.other.admin.headers,
    )
    other = r.json()["data"]["id"]
    r = await client.post(
        "/routing-rules/reorder", json={"orderedIds": ids(a, b, other)}, headers=routing.admin.headers
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("conditions", "where", "says"),
    [
        (
            [cond("messageText", "contains", "x"), cond("mood", "equals", "x")],
            "conditions.1",
            "unknown field",
        ),
        ([cond("messageText", "like", "x")], "conditions.0", "unknown operator"),
        ([cond("messageText", "regex", "(unclosed")], "conditions.0", "invalid regex"),
        ([cond("messageText", "regex", "a" * 201)], "conditions.0", "at most 200"),
        ([cond("tag", "in", "vip")], "conditions.0", "list"),
        ([cond("tag", "in", [])], "conditions.0", "list"),
        ([cond("category", "equals", 3)], "conditions.0", "string"),
        ([cond("category", "equals", "")], "conditions.0", "string"),
        ([cond("withinBusinessHours", "equals", "yes")], "conditions.0", "boolean"),
        ([cond("withinBusinessHours", "contains", True)], "conditions.0", "only equals"),
        (["messageText"], "conditions.0", "object"),
        ([], "conditions.0", "1 to 20"),
        ([cond("origin", "equals", "INBOUND")] * 21, "conditions.0", "1 to 20"),
    ],
)
async def test_a_bad_condition_is_400_naming_it(client, routing, conditions, where, says):
    body = {"name": "bad", "teamId": routing.support_id, "conditions": conditions}
    r = await client.post("/routing-rules", json=body, headers=routing.admin.headers)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"][0]["field"] == where
    assert says in error["details"][0]["message"]
    rule = await routing.rule(TEXT_HAS_INVOICE)
    r = await client.patch(
        f"/routing-rules/{rule['id']}", json={"conditions": conditions}, headers=routing.admin.headers
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == where


@pytest.mark.parametrize(
    "body",
    [
        {"teamId": "T", "conditions": TEXT_HAS_INVOICE},
        {"name": "x", "conditions": TEXT_HAS_INVOICE},
        {"name": "x", "teamId": "T"},
        {"name": "x", "teamId": "T", "conditions": TEXT_HAS_INVOICE, "matchType": "SOME"},
        {"name": "   ", "teamId": "T", "conditions": TEXT_HAS_INVOICE},
    ],
)
async def test_a_bad_body_is_400(client, routing, body):
    if body.get("teamId") == "T":
        body = body | {"teamId": routing.support_id}
    r = await client.post("/routing-rules", json=body, headers=routing.admin.headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_patch_refuses_null_for_a_required_field(client, routing):
    rule = await routing.rule(TEXT_HAS_INVOICE)
    for field in ("name", "teamId", "conditions", "matchType", "isActive"):
        r = await client.patch(
            f"/routing-rules/{rule['id']}", json={field: None}, headers=routing.admin.headers
        )
        assert r.status_code == 400, (field, r.text)


async def test_a_rule_needs_an_active_team_of_the_organization(client, routing):
    body = {"name": "x", "teamId": routing.other_team_id, "conditions": TEXT_HAS_INVOICE}
    r = await client.post("/routing-rules", json=body, headers=routing.admin.headers)
    assert r.status_code == 404, r.text
    r = await client.delete(f"/teams/{routing.sales_id}", headers=routing.admin.headers)
    assert r.status_code == 200
    r = await client.post(
        "/routing-rules", json=body | {"teamId": routing.sales_id}, headers=routing.admin.headers
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == "teamId"
