"""The writing assist: the organization's setting, the user's switch, and the suggestion stream."""

from __future__ import annotations

import json

import pytest

from tests.bot.conftest import PROVIDERS, make_config, new_key
from tests.fakes.llm import Reply
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import error_code


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_settings_and_the_user_switch(inbox, client, llm):
    h = inbox.admin.headers
    r = await client.get("/config/writing-assist", headers=inbox.agent.headers)
    assert r.status_code == 200
    assert r.json()["data"]["user"] == {"enabled": True} and r.json()["data"]["effective"]["enabled"] is False
    r = await client.put("/config/writing-assist", json={"enabled": True}, headers=inbox.agent.headers)
    assert r.status_code == 403
    r = await client.put("/config/writing-assist", json={"enabled": True, "maxTokens": 201}, headers=h)
    assert r.status_code == 400
    r = await client.put("/config/writing-assist", json={"enabled": True, "useBotConfig": False}, headers=h)
    assert r.status_code == 400  # no provider of its own
    key = new_key()
    body = {
        "enabled": True,
        "useBotConfig": False,
        "provider": "KIMI",
        "model": "kimi-k2",
        "apiKey": key,
        "baseUrl": llm.base("kimi"),
    }
    r = await client.put("/config/writing-assist", json=body, headers=h)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["org"]["apiKey"] == "••••••••" + key[-4:] and key not in r.text
    assert data["effective"] == {"enabled": True, "provider": "KIMI", "model": "kimi-k2"}
    r = await client.patch("/profile/writing-assist", json={"enabled": False}, headers=inbox.agent.headers)
    assert r.status_code == 200 and r.json()["data"] == {"enabled": False}
    r = await client.get("/config/writing-assist", headers=inbox.agent.headers)
    assert (
        r.json()["data"]["user"] == {"enabled": False} and r.json()["data"]["effective"]["enabled"] is False
    )
    assert (
        await client.patch("/profile/writing-assist", json={}, headers=inbox.agent.headers)
    ).status_code == 400
    assert (await client.patch("/profile/writing-assist", json={"enabled": True})).status_code == 401
    assert (await client.get("/config/writing-assist")).status_code == 401


async def test_complete_streams_the_suggestion(inbox, client, llm, factory):
    conversation = await inbox.in_team("¿Tienen envío a Monterrey?")
    _, key = await make_config(
        client, inbox.admin.headers, llm, "ANTHROPIC", Reply(" sí, enviamos a todo México.")
    )
    body = {"conversationId": conversation, "partialText": "Hola, claro que"}
    r = await client.post("/writing-assist/complete", json=body, headers=inbox.agent.headers)
    assert r.status_code == 409 and error_code(r) == "WRITING_ASSIST_DISABLED"
    await client.put(
        "/config/writing-assist", json={"enabled": True, "maxTokens": 40}, headers=inbox.admin.headers
    )
    r = await client.post("/writing-assist/complete", json=body, headers=inbox.agent.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    assert [e for e in events if e[0] == "delta"] == [
        ("delta", {"text": piece}) for piece in (" sí,", " enviamos", " a", " todo", " México.")
    ]
    assert events[-1][0] == "done" and events[-1][1]["text"] == " sí, enviamos a todo México."
    assert events[-1][1]["usage"] == {"inputTokens": 11, "outputTokens": 7}
    [request] = llm.requests_with(key)
    assert (
        request.body["max_tokens"] == 40
        and "Monterrey" in str(request.body)
        and "Hola, claro que" in str(request.body)
    )
    # another organization's conversation, one outside the agent's view, bad bodies
    elsewhere = await inbox.customer_writes("hola")
    r = await client.post(
        "/writing-assist/complete", json={**body, "conversationId": elsewhere}, headers=inbox.agent.headers
    )
    assert r.status_code == 404
    for bad in ({"conversationId": conversation}, {"conversationId": conversation, "partialText": ""}):
        assert (
            await client.post("/writing-assist/complete", json=bad, headers=inbox.agent.headers)
        ).status_code == 400
    assert (await client.post("/writing-assist/complete", json=body)).status_code == 401
    platform = await factory.super_admin()
    r = await client.post("/writing-assist/complete", json=body, headers=platform.headers)
    assert r.status_code == 403
    stranger = await factory.org()
    await make_config(client, stranger.admin.headers, llm)
    await client.put("/config/writing-assist", json={"enabled": True}, headers=stranger.admin.headers)
    r = await client.post("/writing-assist/complete", json=body, headers=stranger.admin.headers)
    assert r.status_code == 404 and key not in r.text


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_each_provider_streams(inbox, client, llm, provider):
    conversation = await inbox.in_team("hola")
    _, key = await make_config(
        client,
        inbox.admin.headers,
        llm,
        provider,
        Reply("Con gusto te ayudo", input_tokens=5, output_tokens=4),
    )
    await client.put("/config/writing-assist", json={"enabled": True}, headers=inbox.admin.headers)
    body = {"conversationId": conversation, "partialText": "Hola"}
    r = await client.post("/writing-assist/complete", json=body, headers=inbox.agent.headers)
    assert r.status_code == 200, r.text
    events = sse_events(r.text)
    assert [e[1]["text"] for e in events if e[0] == "delta"] == ["Con", " gusto", " te", " ayudo"]
    assert events[-1] == (
        "done",
        {"text": "Con gusto te ayudo", "usage": {"inputTokens": 5, "outputTokens": 4}},
    )
    [request] = llm.requests_with(key)
    if provider == "GOOGLE":
        assert request.path.endswith(":streamGenerateContent")
    else:
        assert request.body["stream"] is True
    usage = (await client.get("/bot-config/usage", headers=inbox.admin.headers)).json()["data"]
    assert (usage["inputTokens"], usage["outputTokens"]) == (5, 4)


async def test_provider_failures_before_and_during_the_stream(inbox, client, llm):
    conversation = await inbox.in_team("hola")
    _, key = await make_config(
        client,
        inbox.admin.headers,
        llm,
        "ANTHROPIC",
        Reply(status=429, retry_after=3),
        Reply("uno dos tres", break_stream=True),
    )
    await client.put("/config/writing-assist", json={"enabled": True}, headers=inbox.admin.headers)
    body = {"conversationId": conversation, "partialText": "Hola"}
    r = await client.post("/writing-assist/complete", json=body, headers=inbox.agent.headers)
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    r = await client.post("/writing-assist/complete", json=body, headers=inbox.agent.headers)
    assert r.status_code == 200
    events = sse_events(r.text)
    assert events[0] == ("delta", {"text": "uno"}) and events[-1][0] == "error"
    assert events[-1][1]["code"] == "LLM_UNAVAILABLE"
    await client.put("/bot-config", json={"apiKey": new_key()}, headers=inbox.admin.headers)
    r = await client.post("/writing-assist/complete", json=body, headers=inbox.agent.headers)
    assert r.status_code == 409 and error_code(r) == "LLM_AUTH"
