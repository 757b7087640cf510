"""The routing page: the rules in order, creating, editing and deleting one through the console's
forms, with the API's conflict check before a rule is saved."""

from __future__ import annotations

import json

from cxinbox.models.identity import Role
from tests.web.helpers import browser, csrf_of, signed_in

HOSTILE = "<b onmouseover=alert(1)>Ventas</b>"


def condition(value: str) -> str:
    return json.dumps([{"field": "messageText", "operator": "contains", "value": value}])


async def _team(client, headers, name: str) -> str:
    r = await client.post("/teams", json={"name": name}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def _form(csrf: str, team: str, value: str, **fields: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "name": HOSTILE,
        "team_id": team,
        "match_type": "ALL",
        "conditions": condition(value),
        "is_active": "true",
        **fields,
    }


async def test_the_admin_creates_edits_and_deletes_a_rule(app, client, factory):
    org = await factory.org()
    h = org.admin.headers
    sales, support = await _team(client, h, "Sales"), await _team(client, h, "Support")
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        r = await site.post("/routing", data=_form(csrf, sales, "precio"))
        assert r.status_code == 303 and r.headers["location"] == "/routing?done=rule_created", r.text
        page = await site.get(r.headers["location"])
        assert "Rule created." in page.text and HOSTILE not in page.text and "&lt;b onmouseover" in page.text
        rule = (await client.get("/routing-rules", headers=h)).json()["data"][0]
        r = await site.post(f"/routing/{rule['id']}", data=_form(csrf, support, "factura", name="Billing"))
        assert r.status_code == 303 and r.headers["location"] == "/routing?done=rule_saved", r.text
        saved = (await client.get("/routing-rules", headers=h)).json()["data"][0]
        assert (saved["name"], saved["teamId"], saved["conditions"][0]["value"]) == (
            "Billing",
            support,
            "factura",
        )
        r = await site.post(f"/routing/{rule['id']}/delete", data={"csrf": csrf})
        assert r.status_code == 303 and "Rule deleted." in (await site.get(r.headers["location"])).text
    assert (await client.get("/routing-rules", headers=h)).json()["data"] == []


async def test_a_conflict_is_shown_and_saving_anyway_is_a_second_submit(app, client, factory):
    org = await factory.org()
    h = org.admin.headers
    sales, support = await _team(client, h, "Sales"), await _team(client, h, "Support")
    body = {"name": "Prices", "teamId": sales, "conditions": json.loads(condition("precio"))}
    assert (await client.post("/routing-rules", json=body, headers=h)).status_code == 201
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        r = await site.post("/routing", data=_form(csrf, support, "precio"))
        assert r.status_code == 409 and "conflicts with others" in r.text and "Prices" in r.text
        assert 'name="confirm" value="true"' in r.text and "Save anyway" in r.text
        assert len((await client.get("/routing-rules", headers=h)).json()["data"]) == 1
        r = await site.post("/routing", data=_form(csrf_of(r), support, "precio", confirm="true"))
        assert r.status_code == 303, r.text
    assert len((await client.get("/routing-rules", headers=h)).json()["data"]) == 2


async def test_bad_input_is_a_message_and_another_organizations_ids_are_not_found(app, client, factory):
    org, other = await factory.org(), await factory.org()
    mine = await _team(client, org.admin.headers, "Sales")
    theirs_team = await _team(client, other.admin.headers, "Theirs")
    body = {"name": "Theirs", "teamId": theirs_team, "conditions": json.loads(condition("x"))}
    theirs = (await client.post("/routing-rules", json=body, headers=other.admin.headers)).json()["data"]
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        r = await site.post("/routing", data=_form(csrf, mine, "x", conditions="not json"))
        assert r.status_code == 400 and "Check the rule" in r.text
        r = await site.post("/routing", data=_form(csrf, mine, "x", conditions="[]"))
        assert r.status_code == 400 and "That did not work" in r.text
        r = await site.post("/routing", data=_form(csrf, theirs_team, "zzz"))
        assert r.status_code == 404
        r = await site.post(f"/routing/{theirs['id']}", data=_form(csrf, mine, "yyy"))
        assert r.status_code == 404
        r = await site.post(f"/routing/{theirs['id']}/delete", data={"csrf": csrf})
        assert r.status_code == 404
    assert len((await client.get("/routing-rules", headers=other.admin.headers)).json()["data"]) == 1


async def test_an_agent_reads_the_rules_without_forms_and_may_not_change_them(app, client, factory):
    org = await factory.org()
    team = await _team(client, org.admin.headers, "Sales")
    body = {"name": "Prices", "teamId": team, "conditions": json.loads(condition("precio"))}
    rule = (await client.post("/routing-rules", json=body, headers=org.admin.headers)).json()["data"]
    agent = await factory.member(org.id, Role.AGENT)
    async with browser(app) as site:
        csrf = await signed_in(site, agent)
        page = await site.get("/routing")
        assert page.status_code == 200 and "Prices" in page.text and 'action="/routing' not in page.text
        for path in ("/routing", f"/routing/{rule['id']}", f"/routing/{rule['id']}/delete"):
            r = await site.post(path, data=_form(csrf, team, "x"))
            assert r.status_code == 403 and "does not allow" in r.text, path
