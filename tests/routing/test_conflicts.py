"""``check-conflicts``: DUPLICATE, SHADOWED and OVERLAP, previewed without saving."""

from __future__ import annotations

import json

import pytest

from tests.routing.conftest import cond

INVOICE = cond("messageText", "contains", "invoice")
VIP = cond("contactCategory", "equals", "vip")


async def conflicts(
    client, routing, conditions, *, team_id=None, match_type="ALL", exclude=None, member=None
):
    params = {
        "teamId": team_id or routing.support_id,
        "conditions": json.dumps(conditions),
        "matchType": match_type,
    }
    if exclude:
        params["excludeRuleId"] = exclude
    r = await client.get(
        "/routing-rules/check-conflicts", params=params, headers=(member or routing.admin).headers
    )
    assert r.status_code == 200, r.text
    return [(c["ruleId"], c["kind"]) for c in r.json()["data"]["conflicts"]]


async def test_duplicate_ignores_case_and_order(client, routing):
    rule = await routing.rule([INVOICE, VIP])
    found = await conflicts(
        client,
        routing,
        [cond("contactCategory", "equals", "VIP"), cond("messageText", "contains", "Invoice")],
    )
    assert found == [(rule["id"], "DUPLICATE")]
    # ANY of the same conditions is another rule: it also matches when only one holds (same team)
    assert await conflicts(client, routing, [INVOICE, VIP], match_type="ANY") == []


async def test_shadowed_by_an_earlier_broader_rule(client, routing):
    broad = await routing.rule([INVOICE], team_id=routing.sales_id)
    assert await conflicts(client, routing, [INVOICE, VIP]) == [(broad["id"], "SHADOWED")]
    anyof = await routing.rule([VIP, cond("tag", "equals", "x")], team_id=routing.sales_id, matchType="ANY")
    found = await conflicts(client, routing, [VIP, cond("origin", "equals", "INBOUND")])
    assert found == [(broad["id"], "OVERLAP"), (anyof["id"], "SHADOWED")]


async def test_overlap_only_with_another_team_and_compatible_conditions(client, routing):
    other_team = await routing.rule([VIP], team_id=routing.sales_id)
    same_team = await routing.rule([cond("tag", "equals", "silver")], team_id=routing.support_id)
    found = await conflicts(client, routing, [INVOICE, cond("tag", "equals", "gold")])
    assert found == [(other_team["id"], "OVERLAP")]
    assert same_team["id"] not in dict(found)
    # conditions that exclude each other never match together: no overlap
    assert await conflicts(client, routing, [cond("contactCategory", "equals", "regular")]) == []
    assert await conflicts(client, routing, [cond("contactCategory", "notEquals", "vip")]) == []
    assert await conflicts(client, routing, [cond("contactCategory", "notIn", ["vip", "gold"])]) == []
    assert await conflicts(client, routing, [cond("contactCategory", "in", ["gold", "VIP"])]) == [
        (other_team["id"], "OVERLAP")
    ]


async def test_exclude_rule_id_leaves_out_the_edited_rule_and_only_earlier_rules_shadow(client, routing):
    first = await routing.rule([INVOICE, VIP], team_id=routing.sales_id)
    second = await routing.rule([INVOICE], team_id=routing.sales_id)
    # editing the first rule to [INVOICE, VIP] again: the later, broader second rule does not shadow it
    assert (
        await conflicts(client, routing, [INVOICE, VIP], team_id=routing.sales_id, exclude=first["id"]) == []
    )
    # editing the second rule into [INVOICE, VIP]: a duplicate of the first
    found = await conflicts(client, routing, [INVOICE, VIP], team_id=routing.sales_id, exclude=second["id"])
    assert found == [(first["id"], "DUPLICATE")]


async def test_nothing_is_saved_and_agents_may_preview(client, routing):
    await conflicts(client, routing, [INVOICE], member=routing.inbox.agent)
    r = await client.get("/routing-rules", headers=routing.admin.headers)
    assert r.json()["data"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"conditions": "not json"}, "conditions"),
        ({"conditions": json.dumps([cond("mood", "equals", "x")])}, "conditions.0"),
        ({"conditions": json.dumps({"field": "x"})}, "conditions.0"),
        ({"conditions": json.dumps([INVOICE]), "matchType": "SOME"}, None),
        ({"conditions": json.dumps([INVOICE]), "teamId": None}, None),
        ({"teamId": "T"}, None),
    ],
)
async def test_bad_parameters_are_400(client, routing, params, field):
    query = {"teamId": routing.support_id} | params
    query = {k: v for k, v in query.items() if v is not None and v != "T"}
    r = await client.get("/routing-rules/check-conflicts", params=query, headers=routing.admin.headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    if field:
        assert r.json()["error"]["details"][0]["field"] == field
