"""Feature toggles and bot mode: stored per organization, read by any member, changed by an ADMIN.
There are no ids in these paths; isolation is shown by another organization keeping its defaults."""

from __future__ import annotations

import pytest

from cxinbox.models.identity import Role
from tests.fixtures.audit import audit_entries

DEFAULTS = {"auto-categorize": False, "bot-enabled": False, "media-auto-display": True}


@pytest.mark.parametrize("name", list(DEFAULTS))
async def test_toggle_round_trip(client, factory, runtime, name):
    org, other = await factory.org(), await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.get(f"/config/{name}", headers=agent.headers)
    assert r.status_code == 200 and r.json()["data"] == {"enabled": DEFAULTS[name]}

    flipped = not DEFAULTS[name]
    r = await client.put(f"/config/{name}", json={"enabled": flipped}, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"enabled": flipped}
    assert (await client.get(f"/config/{name}", headers=agent.headers)).json()["data"]["enabled"] is flipped
    assert (await client.get(f"/config/{name}", headers=other.admin.headers)).json()["data"][
        "enabled"
    ] is DEFAULTS[name]
    [entry] = await audit_entries(runtime, org.id, "config.updated")
    assert entry.details == {"changes": {name: flipped}} and entry.actor_user_id == org.admin.id


@pytest.mark.parametrize("name", list(DEFAULTS))
async def test_toggle_validation_and_access(client, factory, name):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    for body in ({}, {"enabled": "maybe"}):
        r = await client.put(f"/config/{name}", json=body, headers=org.admin.headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert (await client.get(f"/config/{name}")).status_code == 401
    assert (await client.put(f"/config/{name}", json={"enabled": True})).status_code == 401
    assert (
        await client.put(f"/config/{name}", json={"enabled": True}, headers=agent.headers)
    ).status_code == 403


async def test_bot_mode(client, factory):
    org, other = await factory.org(), await factory.org()
    defaults = {"outsideHoursOnly": False, "handoffOnRequest": True, "handlesReopened": True}
    r = await client.get("/config/bot-mode", headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == defaults
    r = await client.put("/config/bot-mode", json={"outsideHoursOnly": True}, headers=org.admin.headers)
    assert r.status_code == 200
    assert r.json()["data"] == {**defaults, "outsideHoursOnly": True}
    r = await client.put("/config/bot-mode", json={"handoffOnRequest": False}, headers=org.admin.headers)
    assert r.json()["data"] == {"outsideHoursOnly": True, "handoffOnRequest": False, "handlesReopened": True}
    assert (await client.get("/config/bot-mode", headers=other.admin.headers)).json()["data"] == defaults


async def test_bot_mode_validation_and_access(client, factory):
    org = await factory.org()
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    r = await client.put("/config/bot-mode", json={"handoffOnRequest": "perhaps"}, headers=org.admin.headers)
    assert r.status_code == 400
    assert (await client.get("/config/bot-mode")).status_code == 401
    assert (await client.get("/config/bot-mode", headers=supervisor.headers)).status_code == 200
    r = await client.put("/config/bot-mode", json={"outsideHoursOnly": True}, headers=supervisor.headers)
    assert r.status_code == 403
