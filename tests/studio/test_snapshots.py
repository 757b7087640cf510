"""/bot-config/snapshots: metadata lists, restore in place after an automatic snapshot (a version
for the restored prompt), at most 50 kept (oldest automatic first), another organization's ids."""

from __future__ import annotations

from sqlalchemy import select

from cxinbox.models.bot_studio import BotSnapshot
from cxinbox.studio import snapshots
from tests.fixtures.people import error_code
from tests.studio.conftest import set_prompt


async def test_restore_replaces_the_config_in_place_after_an_automatic_snapshot(client, factory):
    org = await factory.org()
    h = org.admin.headers
    config = await set_prompt(client, h, "Antes", apiKey="sk-kept-key-1234", temperature=0.2)
    await client.post("/bot-config/intents", json={"name": "Hola", "response": "¡Hola!"}, headers=h)
    r = await client.post("/bot-config/snapshots", json={"name": "Bueno"}, headers=h)
    assert r.status_code == 201, r.text
    good = r.json()["data"]
    assert (good["name"], good["automatic"], good["botConfigId"]) == ("Bueno", False, config["id"])
    assert good["size"] > 0 and "bundle" not in good
    await set_prompt(client, h, "Después", temperature=1.5)
    intents = (await client.get("/bot-config/intents", headers=h)).json()["data"]
    await client.delete(f"/bot-config/intents/{intents[0]['id']}", headers=h)
    await client.post("/bot-config/intents", json={"name": "Adiós", "response": "Chao"}, headers=h)
    r = await client.post(f"/bot-config/snapshots/{good['id']}/restore", headers=h)
    assert r.status_code == 200, r.text
    restored = r.json()["data"]
    assert restored["id"] == config["id"] and restored["isActive"]
    assert (restored["systemPrompt"], restored["temperature"]) == ("Antes", 0.2)
    assert restored["apiKey"] == config["apiKey"]  # keys are kept
    intents = (await client.get("/bot-config/intents", headers=h)).json()["data"]
    assert [i["name"] for i in intents] == ["Hola"]
    listed = (await client.get("/bot-config/snapshots", headers=h)).json()["data"]
    assert [(s["name"], s["automatic"]) for s in listed] == [
        ("Before restoring Bueno", True),
        ("Bueno", False),
    ]
    versions = (await client.get("/bot-config/prompt-versions", headers=h)).json()["data"]
    assert [(v["systemPrompt"], v["source"]) for v in versions][:2] == [
        ("Antes", "RESTORE"),
        ("Después", "EDIT"),
    ]
    # the automatic snapshot undoes the restore
    r = await client.post(f"/bot-config/snapshots/{listed[0]['id']}/restore", headers=h)
    assert r.json()["data"]["systemPrompt"] == "Después"
    r = await client.delete(f"/bot-config/snapshots/{good['id']}", headers=h)
    assert r.status_code == 200 and r.json()["data"] == {"id": good["id"], "deleted": True}
    assert good["id"] not in {
        s["id"] for s in (await client.get("/bot-config/snapshots", headers=h)).json()["data"]
    }


async def test_at_most_fifty_are_kept_oldest_automatic_first(client, factory, runtime, monkeypatch):
    monkeypatch.setattr(snapshots, "MAX_SNAPSHOTS", 3)
    org = await factory.org()
    h = org.admin.headers
    await set_prompt(client, h, "Uno")
    first = (await client.post("/bot-config/snapshots", json={"name": "m1"}, headers=h)).json()["data"]
    await client.post(f"/bot-config/snapshots/{first['id']}/restore", headers=h)  # + automatic a1
    await client.post("/bot-config/snapshots", json={"name": "m2"}, headers=h)
    await client.post("/bot-config/snapshots", json={"name": "m3"}, headers=h)  # 4 > 3: a1 goes
    names = [s["name"] for s in (await client.get("/bot-config/snapshots", headers=h)).json()["data"]]
    assert names == ["m3", "m2", "m1"]
    await client.post("/bot-config/snapshots", json={}, headers=h)  # no automatic left: m1 goes
    names = [s["name"] for s in (await client.get("/bot-config/snapshots", headers=h)).json()["data"]]
    assert names[1:] == ["m3", "m2"] and names[0].startswith("Bot ")
    assert snapshots.MAX_SNAPSHOTS == 3 and len(names) == 3


async def test_validation_and_missing_config(client, factory, runtime):
    org = await factory.org()
    h = org.admin.headers
    r = await client.post("/bot-config/snapshots", json={}, headers=h)
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    await set_prompt(client, h, "Uno")
    r = await client.post("/bot-config/snapshots", json={"name": "x" * 101}, headers=h)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    # a snapshot whose stored bundle went bad is refused, not half restored
    snapshot = (await client.post("/bot-config/snapshots", json={}, headers=h)).json()["data"]
    async with runtime.unit_of_work() as session:
        row = await session.scalar(select(BotSnapshot).where(BotSnapshot.id == snapshot["id"]))
        assert row is not None
        row.bundle = {**row.bundle, "version": 99}
    r = await client.post(f"/bot-config/snapshots/{snapshot['id']}/restore", headers=h)
    assert r.status_code == 400 and error_code(r) == "BUNDLE_VERSION_UNSUPPORTED"


async def test_another_organizations_snapshots_are_not_found(client, factory):
    owner, stranger = await factory.org(), await factory.org()
    config = await set_prompt(client, owner.admin.headers, "Privado")
    snapshot = (await client.post("/bot-config/snapshots", json={}, headers=owner.admin.headers)).json()[
        "data"
    ]
    h = stranger.admin.headers
    await set_prompt(client, h, "Mío")
    for method, suffix in (("POST", "/restore"), ("DELETE", "")):
        r = await client.request(method, f"/bot-config/snapshots/{snapshot['id']}{suffix}", headers=h)
        assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    r = await client.get(f"/bot-config/snapshots?botConfigId={config['id']}", headers=h)
    assert r.status_code == 404
    r = await client.post(f"/bot-config/snapshots?botConfigId={config['id']}", json={}, headers=h)
    assert r.status_code == 404
    assert (await client.get("/bot-config/snapshots", headers=h)).json()["data"] == []
