"""Each provider's wire format, over real HTTP against the fake providers: test, the sandbox (intents,
the handoff tool, the session kept), models, validate-key, their errors, and the tokens counted."""

from __future__ import annotations

import pytest

from tests.bot.conftest import PROVIDERS, make_config, new_key
from tests.fakes.llm import Reply
from tests.fixtures.people import error_code

ALL = list(PROVIDERS)


@pytest.mark.parametrize("provider", ALL)
async def test_test_sends_the_system_prompt_and_answers_the_reply(client, factory, llm, provider):
    org = await factory.org()
    config, key = await make_config(
        client,
        org.admin.headers,
        llm,
        provider,
        Reply("¡Hola! ¿En qué te ayudo?", input_tokens=20, output_tokens=9),
        systemPrompt="Eres el asistente de ENI Networks.",
        temperature=0.2,
        maxTokens=123,
    )
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["reply"] == "¡Hola! ¿En qué te ayudo?"
    assert data["usage"] == {"inputTokens": 20, "outputTokens": 9} and data["latencyMs"] >= 0
    [request] = llm.requests_with(key)
    body = request.body
    if provider == "ANTHROPIC":
        assert request.headers["anthropic-version"] and request.path == "/anthropic/v1/messages"
        assert body["system"] == "Eres el asistente de ENI Networks." and body["max_tokens"] == 123
        assert body["messages"] == [{"role": "user", "content": "hola"}]
    elif provider == "GOOGLE":
        assert request.path == "/google/v1beta/models/gemini-2.5-flash:generateContent"
        assert body["systemInstruction"] == {"parts": [{"text": "Eres el asistente de ENI Networks."}]}
        assert body["contents"] == [{"role": "user", "parts": [{"text": "hola"}]}]
        assert body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 123}
    else:
        assert request.path.endswith("/v1/chat/completions")
        assert body["messages"] == [
            {"role": "system", "content": "Eres el asistente de ENI Networks."},
            {"role": "user", "content": "hola"},
        ]
        assert body["model"] == PROVIDERS[provider][1] and body["temperature"] == 0.2
        cap = "max_completion_tokens" if provider == "OPENAI" else "max_tokens"
        assert body[cap] == 123
    r = await client.get("/bot-config/usage", headers=org.admin.headers)
    usage = r.json()["data"]
    assert (usage["inputTokens"], usage["outputTokens"], usage["botReplies"]) == (20, 9, 0)
    assert usage["limit"] == 500 and usage["remaining"] == 500


@pytest.mark.parametrize("provider", ALL)
async def test_the_sandbox_keeps_the_session_and_offers_the_handoff_tool(client, factory, llm, provider):
    org = await factory.org()
    h = org.admin.headers
    _, key = await make_config(
        client,
        h,
        llm,
        provider,
        Reply("Claro, el plan cuesta 20 USD."),
        Reply("", tool_call=("handoff_to_human", {"reason": "quiere un humano", "summary": "precio"})),
    )
    r = await client.post("/bot-config/test-sandbox", json={"message": "¿Cuánto cuesta?"}, headers=h)
    assert r.status_code == 200, r.text
    first = r.json()["data"]
    assert (
        first["reply"] == "Claro, el plan cuesta 20 USD."
        and first["handoff"] is False
        and isinstance(first["traceId"], str)
    )
    r = await client.post(
        "/bot-config/test-sandbox",
        json={"message": "No me convence, ¿qué más hay?", "sessionId": first["sessionId"]},
        headers=h,
    )
    second = r.json()["data"]
    assert second["sessionId"] == first["sessionId"] and second["handoff"] is True
    assert second["actions"] == [
        {"type": "HANDOFF", "name": "handoff_to_human", "detail": "quiere un humano"}
    ]
    requests = llm.requests_with(key)
    body = requests[1].body
    if provider == "ANTHROPIC":
        assert [m["content"] for m in body["messages"]] == [
            "¿Cuánto cuesta?",
            "Claro, el plan cuesta 20 USD.",
            "No me convence, ¿qué más hay?",
        ]
        assert body["tools"][0]["name"] == "handoff_to_human" and "input_schema" in body["tools"][0]
    elif provider == "GOOGLE":
        assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
        assert body["tools"][0]["functionDeclarations"][0]["name"] == "handoff_to_human"
    else:
        assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
        assert body["tools"][0]["function"]["name"] == "handoff_to_human"
    # reset starts over
    r = await client.post(
        "/bot-config/test-sandbox",
        json={"message": "hola", "sessionId": first["sessionId"], "reset": True},
        headers=h,
    )
    assert (
        r.status_code == 200
        and len(
            llm.requests_with(key)[2].body.get("messages") or llm.requests_with(key)[2].body.get("contents")
        )
        <= 2
    )


async def test_sandbox_intents_answer_before_the_llm(client, factory, llm):
    org = await factory.org()
    h = org.admin.headers
    _, key = await make_config(client, h, llm)
    await client.post(
        "/bot-config/intents",
        json={"name": "Horario", "examples": ["horario de atencion"], "response": "De 9 a 18 h."},
        headers=h,
    )
    await client.post(
        "/bot-config/intents",
        json={"name": "Humano", "examples": ["un agente"], "action": "HANDOFF"},
        headers=h,
    )
    r = await client.post(
        "/bot-config/test-sandbox", json={"message": "¿Cuál es el HORARIO de atención?"}, headers=h
    )
    data = r.json()["data"]
    assert data["reply"] == "De 9 a 18 h." and data["handoff"] is False
    assert data["actions"] == [{"type": "INTENT", "name": "Horario", "detail": "REPLY"}]
    r = await client.post("/bot-config/test-sandbox", json={"message": "Quiero un agente ya"}, headers=h)
    assert r.json()["data"]["handoff"] is True
    assert llm.requests_with(key) == []


@pytest.mark.parametrize("provider", ["OPENAI", "ANTHROPIC", "GOOGLE"])
async def test_provider_errors_are_our_answers(client, factory, llm, provider, caplog):
    org = await factory.org()
    h = org.admin.headers
    config, key = await make_config(
        client, h, llm, provider, Reply(status=429, retry_after=7), Reply(status=503), Reply(refused=True)
    )
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=h)
    assert r.status_code == 429 and error_code(r) == "RATE_LIMITED" and r.headers["retry-after"] == "7"
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=h)
    assert r.status_code == 503 and error_code(r) == "LLM_UNAVAILABLE" and r.headers["retry-after"]
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=h)
    assert r.status_code == 200 and r.json()["data"]["reply"] == ""
    # a key the provider does not know: the provider's refusal echoes it, our answer does not
    bad = new_key()
    await client.put("/bot-config", json={"apiKey": bad}, headers=h)
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=h)
    assert r.status_code == 409 and error_code(r) == "LLM_AUTH" and bad not in r.text
    assert bad not in caplog.text and key not in caplog.text


@pytest.mark.parametrize("provider", ALL)
async def test_validate_key(client, factory, llm, provider):
    org = await factory.org()
    flavour, model = PROVIDERS[provider]
    key = new_key()
    llm.script(key)
    body = {"provider": provider, "apiKey": key, "model": model, "baseUrl": llm.base(flavour)}
    r = await client.post("/bot-config/validate-key", json=body, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"valid": True, "reason": None, "message": None}
    bad = new_key()
    r = await client.post("/bot-config/validate-key", json={**body, "apiKey": bad}, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["valid"] is False
    assert r.json()["data"]["reason"] == "LLM_AUTH" and bad not in r.text
    llm.script(key, Reply(status=500))
    r = await client.post("/bot-config/validate-key", json=body, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["reason"] == "LLM_UNAVAILABLE"
    r = await client.post(
        "/bot-config/validate-key", json={**body, "provider": "NOPE"}, headers=org.admin.headers
    )
    assert r.status_code == 400


@pytest.mark.parametrize("provider", ALL)
async def test_models_merge_the_live_list(client, factory, llm, provider):
    org = await factory.org()
    _, key = await make_config(client, org.admin.headers, llm, provider)
    llm.state.models[key] = ["custom-model-1"]
    r = await client.get(f"/bot-config/models?provider={provider}", headers=org.admin.headers)
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["data"]]
    assert "custom-model-1" in ids and all(set(m) == {"id", "name"} for m in r.json()["data"])
    if provider != "LOCAL":
        other = "OPENAI" if provider != "OPENAI" else "ANTHROPIC"
        r = await client.get(f"/bot-config/models?provider={other}", headers=org.admin.headers)
        assert r.json()["data"] and "custom-model-1" not in [m["id"] for m in r.json()["data"]]
    assert (
        await client.get("/bot-config/models?provider=NOPE", headers=org.admin.headers)
    ).status_code == 400
    assert (await client.get("/bot-config/models", headers=org.admin.headers)).status_code == 400


async def test_models_fall_back_to_the_curated_list_when_the_provider_fails(client, factory, llm):
    org = await factory.org()
    await make_config(client, org.admin.headers, llm, "ANTHROPIC")
    await client.put("/bot-config", json={"apiKey": new_key()}, headers=org.admin.headers)  # refused
    r = await client.get("/bot-config/models?provider=ANTHROPIC", headers=org.admin.headers)
    assert r.status_code == 200 and "claude-sonnet-4-5" in [m["id"] for m in r.json()["data"]]


async def test_test_without_a_bot_and_bad_bodies(client, factory, llm):
    org = await factory.org()
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    await make_config(client, org.admin.headers, llm)
    for body in ({}, {"message": ""}, {"message": "x" * 4001}):
        r = await client.post("/bot-config/test", json=body, headers=org.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
        r = await client.post("/bot-config/test-sandbox", json=body, headers=org.admin.headers)
        assert r.status_code == 400
    stranger = await factory.org()
    r = await client.post("/bot-config/test-sandbox", json={"message": "x"}, headers=org.admin.headers)
    session_id = r.json()["data"]["sessionId"]
    await make_config(client, stranger.admin.headers, llm)
    r = await client.post(
        "/bot-config/test-sandbox",
        json={"message": "x", "sessionId": session_id},
        headers=stranger.admin.headers,
    )
    assert r.status_code == 404


async def test_usage_history_has_twelve_months_oldest_first(client, factory, llm):
    org = await factory.org()
    await make_config(client, org.admin.headers, llm, "OPENAI", Reply(input_tokens=3, output_tokens=4))
    await client.post("/bot-config/test", json={"message": "hola"}, headers=org.admin.headers)
    r = await client.get("/bot-config/usage/history", headers=org.admin.headers)
    rows = r.json()["data"]
    assert len(rows) == 12 and [row["period"] for row in rows] == sorted(row["period"] for row in rows)
    assert (rows[-1]["inputTokens"], rows[-1]["outputTokens"]) == (3, 4)
    assert all(row["inputTokens"] == 0 for row in rows[:-1])
    r = await client.get("/plan/usage", headers=org.admin.headers)
    assert r.status_code == 200


async def test_a_provider_slower_than_the_timeout_is_unavailable(client, factory, llm, runtime, monkeypatch):
    org = await factory.org()
    await make_config(client, org.admin.headers, llm, "DEEPSEEK", Reply(delay=0.5), Reply("rápido"))
    monkeypatch.setattr(runtime.settings, "llm_timeout_seconds", 0.1)
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=org.admin.headers)
    assert r.status_code == 503 and error_code(r) == "LLM_UNAVAILABLE" and r.headers["retry-after"]
    r = await client.post("/bot-config/test", json={"message": "hola"}, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["reply"] == "rápido"
