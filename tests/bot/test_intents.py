"""/bot-config/intents: CRUD and reorder on the active config (``botConfigId`` for a draft)."""

from __future__ import annotations

from tests.bot.conftest import make_config
from tests.fixtures.people import error_code, make_team


async def test_crud_and_reorder(client, factory, llm, runtime):
    org = await factory.org()
    h = org.admin.headers
    await make_config(client, h, llm)
    team = await make_team(runtime, org.id)
    made = []
    for name in ("A", "B", "C"):
        r = await client.post(
            "/bot-config/intents",
            json={"name": name, "examples": [name.lower()], "response": name},
            headers=h,
        )
        assert r.status_code == 201, r.text
        made.append(r.json()["data"])
    assert [i["order"] for i in made] == [0, 1, 2]
    r = await client.put(
        f"/bot-config/intents/{made[1]['id']}",
        json={"action": "HANDOFF", "handoffTeamId": team, "isActive": False},
        headers=h,
    )
    assert (
        r.status_code == 200
        and r.json()["data"]["action"] == "HANDOFF"
        and r.json()["data"]["handoffTeamId"] == team
    )
    r = await client.put(
        "/bot-config/intents/reorder", json={"ids": [made[2]["id"], made[0]["id"]]}, headers=h
    )
    assert [i["name"] for i in r.json()["data"]] == ["C", "A", "B"]
    r = await client.get("/bot-config/intents", headers=h)
    assert [(i["name"], i["order"]) for i in r.json()["data"]] == [("C", 0), ("A", 1), ("B", 2)]
    r = await client.delete(f"/bot-config/intents/{made[0]['id']}", headers=h)
    assert r.status_code == 200 and r.json()["data"]["deleted"] is True
    r = await client.get("/bot-config/intents", headers=h)
    assert [i["name"] for i in r.json()["data"]] == ["C", "B"]


async def test_invalid_intents_and_other_organizations(client, factory, llm, runtime):
    org = await factory.org()
    h = org.admin.headers
    r = await client.get("/bot-config/intents", headers=h)
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    await make_config(client, h, llm)
    for body in (
        {"examples": ["x"]},
        {"name": "x"},  # REPLY without a response
        {"name": "x", "action": "TOOL"},
        {"name": "x", "action": "NOPE"},
        {"name": "x", "response": "y", "examples": [""]},
    ):
        r = await client.post("/bot-config/intents", json=body, headers=h)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body
    stranger = await factory.org()
    foreign_team = await make_team(runtime, stranger.id)
    r = await client.post(
        "/bot-config/intents",
        json={"name": "x", "action": "HANDOFF", "handoffTeamId": foreign_team},
        headers=h,
    )
    assert r.status_code == 400
    intent = (
        await client.post("/bot-config/intents", json={"name": "x", "response": "y"}, headers=h)
    ).json()["data"]
    await make_config(client, stranger.admin.headers, llm)
    for method, path, body in (
        ("PUT", f"/bot-config/intents/{intent['id']}", {"name": "z"}),
        ("DELETE", f"/bot-config/intents/{intent['id']}", None),
    ):
        r = await client.request(method, path, json=body, headers=stranger.admin.headers)
        assert r.status_code == 404
    r = await client.put(
        "/bot-config/intents/reorder", json={"ids": [intent["id"]]}, headers=stranger.admin.headers
    )
    assert r.status_code == 400
    r = await client.put("/bot-config/intents/reorder", json={"ids": [intent["id"], intent["id"]]}, headers=h)
    assert r.status_code == 400
