"""/bot-config/presets: CRUD, the key encrypted and masked, base URLs under the configs' rules, and
applying one to a config (the key copied without passing through the client)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxinbox.models.bot_studio import BotPreset
from tests.bot.conftest import make_config, new_key
from tests.fakes.llm import Reply
from tests.fixtures.people import error_code


async def test_create_list_update_apply_delete(client, factory, llm, runtime):
    org = await factory.org()
    h = org.admin.headers
    await make_config(client, h, llm)
    key = new_key()
    llm.script(key, Reply("¡Hola desde el preset!"))
    body = {
        "name": "Local",
        "provider": "LOCAL",
        "model": "llama3.1",
        "apiKey": key,
        "baseUrl": llm.base("local"),
    }
    r = await client.post("/bot-config/presets", json=body, headers=h)
    assert r.status_code == 201, r.text
    preset = r.json()["data"]
    assert preset["apiKey"] == "••••••••" + key[-4:] and preset["temperature"] is None
    async with runtime.sessionmaker() as session:
        stored = await session.scalar(select(BotPreset.api_key_encrypted).where(BotPreset.id == preset["id"]))
    assert stored and key not in stored
    r = await client.put(
        f"/bot-config/presets/{preset['id']}",
        json={"apiKey": preset["apiKey"], "temperature": 0.1, "maxTokens": 300},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["data"]["apiKey"] == preset["apiKey"]
    r = await client.get("/bot-config/presets", headers=h)
    assert [(p["name"], p["temperature"]) for p in r.json()["data"]] == [("Local", 0.1)] and key not in r.text
    r = await client.post(f"/bot-config/presets/{preset['id']}/apply", headers=h)
    assert r.status_code == 200, r.text
    config = r.json()["data"]
    assert (config["provider"], config["model"], config["temperature"], config["maxTokens"]) == (
        "LOCAL",
        "llama3.1",
        0.1,
        300,
    )
    # the applied key is the preset's: the config now talks to the preset's scripted fake
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=h)
    assert r.status_code == 200 and r.json()["data"]["reply"] == "¡Hola desde el preset!"
    r = await client.delete(f"/bot-config/presets/{preset['id']}", headers=h)
    assert r.status_code == 200 and r.json()["data"] == {"id": preset["id"], "deleted": True}
    assert (await client.get("/bot-config/presets", headers=h)).json()["data"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x", "provider": "OTHER", "model": "m"},
        {"name": "x", "provider": "OPENAI", "model": "bad model!"},
        {"name": "x", "provider": "OPENAI", "model": "m", "temperature": 5},
        {"name": "x", "provider": "OPENAI", "model": "m", "baseUrl": "ftp://example.com"},
        {"name": "x", "provider": "LOCAL", "model": "m"},
        {"name": " ", "provider": "OPENAI", "model": "m"},
    ],
)
async def test_invalid_presets_answer_400(client, factory, body):
    org = await factory.org()
    r = await client.post("/bot-config/presets", json=body, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", r.text


async def test_a_private_base_url_is_refused_when_the_switch_is_off(client, factory, runtime, monkeypatch):
    org = await factory.org()
    monkeypatch.setattr(runtime.settings, "allow_private_urls", False)
    for url in ("http://169.254.169.254/v1", "http://localhost/v1", "http://10.0.0.1/v1"):
        body = {"name": "x", "provider": "LOCAL", "model": "m", "baseUrl": url}
        r = await client.post("/bot-config/presets", json=body, headers=org.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", url


async def test_another_organizations_preset_is_not_found(client, factory, llm):
    owner, stranger = await factory.org(), await factory.org()
    body = {"name": "Mío", "provider": "OPENAI", "model": "gpt-4o-mini", "apiKey": "sk-owner-secret-1234"}
    preset = (await client.post("/bot-config/presets", json=body, headers=owner.admin.headers)).json()["data"]
    await make_config(client, stranger.admin.headers, llm)
    h = stranger.admin.headers
    for method, suffix in (("PUT", ""), ("DELETE", ""), ("POST", "/apply")):
        r = await client.request(method, f"/bot-config/presets/{preset['id']}{suffix}", json={}, headers=h)
        assert r.status_code == 404 and error_code(r) == "NOT_FOUND", (method, suffix)
    assert (await client.get("/bot-config/presets", headers=h)).json()["data"] == []
    # and a preset of one's own never applies to another organization's config
    own = (await client.post("/bot-config/presets", json=body, headers=h)).json()["data"]
    owner_config, _ = await make_config(client, owner.admin.headers, llm)
    r = await client.post(
        f"/bot-config/presets/{own['id']}/apply?botConfigId={owner_config['id']}", headers=h
    )
    assert r.status_code == 404
