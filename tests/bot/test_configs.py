"""/bot-config: drafts, upsert, activation, duplication (with intents), deletion, the key encrypted,
masked and revealed (audited), roles, and another organization's ids."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxinbox.models.bot import BotConfig
from cxinbox.models.identity import Role
from tests.bot.conftest import make_config
from tests.fixtures.audit import audit_entries
from tests.fixtures.people import error_code


async def test_drafts_upsert_activate_duplicate_delete(client, factory, llm, runtime):
    org = await factory.org()
    h = org.admin.headers
    r = await client.get("/bot-config", headers=h)
    assert r.status_code == 200 and r.json()["data"] is None
    active, key = await make_config(
        client, h, llm, systemPrompt="Eres amable.", categories=[{"name": "Ventas"}]
    )
    assert active["isActive"] and active["name"] == "Bot" and active["apiKey"] == "••••••••" + key[-4:]
    r = await client.post("/bot-config", json={"name": "Nuevo", "temperature": 0.1}, headers=h)
    assert r.status_code == 201, r.text
    draft = r.json()["data"]
    assert (draft["name"], draft["isActive"], draft["temperature"]) == ("Nuevo (draft)", False, 0.1)
    await client.post(
        "/bot-config/intents", json={"name": "Hola", "examples": ["hola"], "response": "¡Hola!"}, headers=h
    )
    r = await client.post(f"/bot-config/{active['id']}/duplicate", json={}, headers=h)
    assert r.status_code == 201
    copy = r.json()["data"]
    assert copy["name"] == "Bot (copy)" and not copy["isActive"] and copy["apiKey"] == active["apiKey"]
    r = await client.get(f"/bot-config/intents?botConfigId={copy['id']}", headers=h)
    assert [i["name"] for i in r.json()["data"]] == ["Hola"]
    r = await client.get("/bot-config/list", headers=h)
    assert [c["id"] for c in r.json()["data"]] == [active["id"], draft["id"], copy["id"]]
    r = await client.put(f"/bot-config/{draft['id']}/activate", headers=h)
    assert r.status_code == 200 and r.json()["data"]["isActive"] and r.json()["data"]["name"] == "Nuevo"
    r = await client.get("/bot-config", headers=h)
    assert r.json()["data"]["id"] == draft["id"]
    r = await client.put("/bot-config", json={"id": active["id"], "model": "gpt-4.1"}, headers=h)
    assert (
        r.status_code == 200 and r.json()["data"]["model"] == "gpt-4.1" and not r.json()["data"]["isActive"]
    )
    r = await client.delete(f"/bot-config/{draft['id']}", headers=h)
    assert r.status_code == 409 and error_code(r) == "BOT_CONFIG_ACTIVE"
    r = await client.delete(f"/bot-config/{copy['id']}", headers=h)
    assert r.status_code == 200 and r.json()["data"] == {"id": copy["id"], "deleted": True}
    assert [e.target_id for e in await audit_entries(runtime, org.id, "bot_config.activated")] == [
        draft["id"]
    ]
    assert [e.target_id for e in await audit_entries(runtime, org.id, "bot_config.deleted")] == [copy["id"]]


async def test_the_key_is_encrypted_masked_and_revealed_only_to_admins(client, factory, llm, runtime):
    org = await factory.org()
    config, key = await make_config(client, org.admin.headers, llm)
    async with runtime.sessionmaker() as session:
        stored = await session.scalar(select(BotConfig.api_key_encrypted).where(BotConfig.id == config["id"]))
    assert stored and key not in stored
    for path in ("/bot-config", "/bot-config/list"):
        assert key not in (await client.get(path, headers=org.admin.headers)).text
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    assert (await client.get("/bot-config", headers=supervisor.headers)).status_code == 200
    assert (await client.get("/bot-config/reveal-key", headers=supervisor.headers)).status_code == 403
    r = await client.get("/bot-config/reveal-key", headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"apiKey": key}
    [entry] = await audit_entries(runtime, org.id, "bot_config.key_revealed")
    assert entry.target_id == config["id"] and key not in str(entry.details)
    # the masked value sent back keeps the key; null clears it
    r = await client.put(
        "/bot-config", json={"apiKey": config["apiKey"], "name": "Renamed"}, headers=org.admin.headers
    )
    assert (await client.get("/bot-config/reveal-key", headers=org.admin.headers)).json()["data"][
        "apiKey"
    ] == key
    r = await client.put("/bot-config", json={"apiKey": None}, headers=org.admin.headers)
    assert r.json()["data"]["apiKey"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "OTHER"},
        {"temperature": 3},
        {"maxTokens": 0},
        {"model": "bad model!"},
        {"baseUrl": "ftp://example.com"},
        {"baseUrl": "http://user:pass@example.com/v1"},
        {"provider": "LOCAL", "baseUrl": None},
        {"debounceSeconds": 31},
        {"categories": [{"name": ""}]},
        {"mode": "N8N"},
    ],
)
async def test_invalid_configs_answer_400(client, factory, body):
    org = await factory.org()
    r = await client.put("/bot-config", json=body, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", r.text
    r = await client.post("/bot-config", json={"name": "x", **body}, headers=org.admin.headers)
    assert r.status_code == 400
    assert (await client.post("/bot-config", json={}, headers=org.admin.headers)).status_code == 400


ENDPOINTS = [
    ("GET", "/bot-config", None),
    ("POST", "/bot-config", {"name": "x"}),
    ("PUT", "/bot-config", {"model": "gpt-4o"}),
    ("GET", "/bot-config/list", None),
    ("GET", "/bot-config/reveal-key", None),
    ("POST", "/bot-config/test", {"message": "hola"}),
    ("POST", "/bot-config/test-sandbox", {"message": "hola"}),
    ("GET", "/bot-config/models?provider=OPENAI", None),
    ("POST", "/bot-config/validate-key", {"provider": "OPENAI", "apiKey": "k", "model": "gpt-4o"}),
    ("GET", "/bot-config/usage", None),
    ("GET", "/bot-config/usage/history", None),
    ("POST", "/bot-config/reprocess-pending", None),
    ("GET", "/bot-config/intents", None),
    ("POST", "/bot-config/intents", {"name": "x", "response": "y"}),
    ("PUT", "/bot-config/intents/reorder", {"ids": []}),
]
#: what an agent may not do; reading is for admins and supervisors
SUPERVISOR_READS = {("GET", p) for _, p, _ in [e for e in ENDPOINTS if e[0] == "GET"] if "reveal" not in p}


@pytest.mark.parametrize("method, path, body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
async def test_roles(client, factory, method, path, body):
    org = await factory.org()
    assert (await client.request(method, path, json=body)).status_code == 401
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.request(method, path, json=body, headers=agent.headers)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    r = await client.request(method, path, json=body, headers=supervisor.headers)
    assert (r.status_code != 403) == ((method, path) in SUPERVISOR_READS), r.text
    platform = await factory.super_admin()
    assert (await client.request(method, path, json=body, headers=platform.headers)).status_code == 403


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("PUT", "/activate", None),
        ("POST", "/duplicate", {}),
        ("DELETE", "", None),
        ("PUT", "", None),
        ("GET", "/reveal-key", None),
        ("POST", "/test", None),
        ("GET", "/intents", None),
        ("POST", "/intents", None),
    ],
)
async def test_another_organizations_config_is_not_found(client, factory, llm, method, suffix, body):
    owner = await factory.org()
    config, key = await make_config(client, owner.admin.headers, llm)
    stranger = await factory.org()
    h = stranger.admin.headers
    if suffix in ("/activate", "/duplicate", ""):
        if method == "PUT" and suffix == "":
            r = await client.put("/bot-config", json={"id": config["id"], "model": "x"}, headers=h)
        else:
            r = await client.request(method, f"/bot-config/{config['id']}{suffix}", json=body, headers=h)
    elif suffix == "/test":
        r = await client.post(
            "/bot-config/test", json={"message": "hi", "botConfigId": config["id"]}, headers=h
        )
    elif suffix == "/intents" and method == "POST":
        r = await client.post(
            f"/bot-config/intents?botConfigId={config['id']}", json={"name": "x", "response": "y"}, headers=h
        )
    else:
        r = await client.get(f"/bot-config{suffix}?botConfigId={config['id']}", headers=h)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND", r.text
    assert key not in r.text


async def test_a_base_url_at_a_private_address_is_refused_when_the_switch_is_off(
    caplog, client, factory, llm, runtime, monkeypatch
):
    org = await factory.org()
    config, key = await make_config(client, org.admin.headers, llm)  # on 127.0.0.1, allowed in tests
    monkeypatch.setattr(runtime.settings, "allow_private_urls", False)
    before = len(llm.requests_with(key))
    for url in (
        "http://127.0.0.1:9/v1",
        "http://10.0.0.1/v1",
        "http://169.254.169.254/v1",
        "http://[::1]/v1",
        "http://localhost/v1",
    ):
        r = await client.put("/bot-config", json={"baseUrl": url}, headers=org.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", url
    # stored before the switch went off: the guard refuses the call itself
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "DESTINATION_REFUSED"
    body = {"provider": "LOCAL", "apiKey": key, "model": "m", "baseUrl": llm.base("local")}
    r = await client.post("/bot-config/validate-key", json=body, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["valid"] is False
    assert r.json()["data"]["reason"] == "DESTINATION_REFUSED"
    assert len(llm.requests_with(key)) == before
    assert (
        "outbound_refused" in caplog.text and key not in caplog.text
    )  # the refusal is logged, the key never
