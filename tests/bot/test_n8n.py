"""/n8n/bot-response: signed answers of an N8N workflow, sent as the bot's message; refused unsigned,
for a conversation that is not the bot's, and never sent twice for one ``messageId``."""

from __future__ import annotations

import json
import uuid

import pytest

from cxinbox.core.clock import utcnow
from cxinbox.models.inbox import ConversationStatus
from cxinbox.whatsapp.signature import sign
from tests.bot.conftest import make_config
from tests.fixtures.inbox import make_inbox, set_fields
from tests.fixtures.people import error_code
from tests.fixtures.wait import eventually

SECRET = "n8n-shared-secret"


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


async def _post(client, payload, secret=SECRET, **headers):
    raw = json.dumps(payload).encode()
    signed = {"X-Signature-256": sign(secret, raw)} if secret else {}
    return await client.post(
        "/n8n/bot-response", content=raw, headers={"Content-Type": "application/json", **signed, **headers}
    )


async def _bot_conversation(inbox, client, llm, runtime, text="hola"):
    conversation = await inbox.customer_writes(text)
    await set_fields(runtime, conversation, status=ConversationStatus.BOT_HANDLING, last_inbound_at=utcnow())
    await make_config(
        client,
        inbox.admin.headers,
        llm,
        mode="N8N",
        n8nWebhookUrl="https://n8n.example.com/hook",
        n8nSecret=SECRET,
    )
    return conversation


async def test_a_signed_text_answer_is_sent_as_the_bot_once(inbox, client, llm, runtime, graph):
    conversation = await _bot_conversation(inbox, client, llm, runtime)
    payload = {
        "conversationId": conversation,
        "message": {"type": "text", "text": "¡Hola! Soy el bot."},
        "messageId": uuid.uuid4().hex,
    }
    r = await _post(client, payload)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["handoff"] is False and data["duplicate"] is False and data["messageId"]
    again = await _post(client, payload)
    assert again.status_code == 200 and again.json()["data"] == {**data, "duplicate": True}
    r = await client.get(f"/conversations/{conversation}/messages", headers=inbox.admin.headers)
    bot = [m for m in r.json()["data"] if m["senderType"] == "BOT"]
    assert [m["text"] for m in bot] == ["¡Hola! Soy el bot."]
    await eventually(
        lambda: any(s.get("text", {}).get("body") == "¡Hola! Soy el bot." for s in graph.state.sent),
        "the send",
    )
    usage = (await client.get("/bot-config/usage", headers=inbox.admin.headers)).json()["data"]
    assert usage["botReplies"] == 1
    plan = (await client.get("/plan/usage", headers=inbox.admin.headers)).json()["data"]
    assert plan["limits"]["monthlyBotReplies"]["used"] == 1


async def test_a_handoff_answer_moves_the_conversation_to_the_queue(inbox, client, llm, runtime):
    conversation = await _bot_conversation(inbox, client, llm, runtime)
    r = await _post(
        client, {"conversationId": conversation, "message": {"type": "handoff", "summary": "quiere humano"}}
    )
    assert r.status_code == 200 and r.json()["data"]["handoff"] is True
    r = await client.get(f"/conversations/{conversation}", headers=inbox.admin.headers)
    assert r.json()["data"]["status"] == "OPEN"
    # the conversation is not the bot's any more
    r = await _post(client, {"conversationId": conversation, "message": {"type": "text", "text": "tarde"}})
    assert r.status_code == 409 and error_code(r) == "NOT_BOT_HANDLING"


async def test_unsigned_wrongly_signed_or_unknown_answers_are_refused(inbox, client, llm, runtime, factory):
    conversation = await _bot_conversation(inbox, client, llm, runtime)
    payload = {"conversationId": conversation, "message": {"type": "text", "text": "x"}}
    for secret in (None, "wrong-secret"):
        r = await _post(client, payload, secret=secret)
        assert r.status_code == 401 and error_code(r) == "INVALID_SIGNATURE"
    r = await _post(client, {**payload, "conversationId": str(uuid.uuid4())})
    assert r.status_code == 401
    # another organization's secret does not open this one's conversation
    other = await factory.org()
    await make_config(
        client,
        other.admin.headers,
        llm,
        mode="N8N",
        n8nWebhookUrl="https://n8n.example.com/h",
        n8nSecret="theirs",
    )
    r = await _post(client, payload, secret="theirs")
    assert r.status_code == 401
    # an LLM-mode config takes no N8N answers
    await client.put("/bot-config", json={"mode": "LLM"}, headers=inbox.admin.headers)
    assert (await _post(client, payload)).status_code == 401
    await client.put("/bot-config", json={"mode": "N8N"}, headers=inbox.admin.headers)
    r = await client.get(f"/conversations/{conversation}/messages", headers=inbox.admin.headers)
    assert all(m["senderType"] != "BOT" for m in r.json()["data"])
    for bad in (
        {"conversationId": conversation},
        {"conversationId": conversation, "message": {"type": "nope"}},
    ):
        assert (await _post(client, bad)).status_code == 400
    r = await _post(client, {"conversationId": conversation, "message": {"type": "text", "text": " "}})
    assert r.status_code == 400
    r = await _post(client, {"conversationId": conversation, "message": {"type": "image"}})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
