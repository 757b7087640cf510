"""/bot-feedback: rating 0 and 1 on a BOT message of a conversation the caller sees, one rating per
person and message, cursor pages, and another organization's or a non-bot message (404)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from cxinbox.core.clock import utcnow
from cxinbox.models.inbox import ConversationStatus, Message, SenderType
from cxinbox.whatsapp.signature import sign
from tests.bot.conftest import make_config
from tests.fixtures.inbox import make_inbox, set_fields
from tests.fixtures.people import error_code

SECRET = "feedback-n8n-secret"


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


async def _bot_message(inbox, client, llm, runtime) -> tuple[str, str, str]:
    """A conversation in the team with a customer message and a bot answer (sent through N8N's
    signed callback): the conversation, the bot's message and the customer's."""
    conversation = await inbox.in_team("hola")
    await set_fields(runtime, conversation, status=ConversationStatus.BOT_HANDLING, last_inbound_at=utcnow())
    await make_config(
        client,
        inbox.admin.headers,
        llm,
        mode="N8N",
        n8nWebhookUrl="https://n8n.example.com/h",
        n8nSecret=SECRET,
    )
    raw = json.dumps(
        {"conversationId": conversation, "message": {"type": "text", "text": "Soy el bot"}}
    ).encode()
    headers = {"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)}
    assert (await client.post("/n8n/bot-response", content=raw, headers=headers)).status_code == 200
    async with runtime.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Message.id, Message.sender_type).where(Message.conversation_id == conversation)
            )
        ).all()
    bot = next(m for m, sender in rows if sender == SenderType.BOT)
    customer = next(m for m, sender in rows if sender == SenderType.CUSTOMER)
    return conversation, bot, customer


async def test_ratings_zero_and_one_one_per_person_updated_and_listed(inbox, client, llm, runtime):
    conversation, bot, _ = await _bot_message(inbox, client, llm, runtime)
    body = {"messageId": bot, "conversationId": conversation, "rating": 0}
    r = await client.post("/bot-feedback", json=body, headers=inbox.agent.headers)
    assert r.status_code == 201, r.text
    first = r.json()["data"]
    assert (first["rating"], first["comment"], first["userId"]) == (0, None, inbox.agent.id)
    r = await client.post(
        "/bot-feedback", json={**body, "rating": 1, "comment": "Mejor"}, headers=inbox.agent.headers
    )
    assert r.status_code == 200 and r.json()["data"]["id"] == first["id"] and r.json()["data"]["rating"] == 1
    r = await client.post("/bot-feedback", json=body, headers=inbox.admin.headers)
    assert r.status_code == 201
    r = await client.post("/bot-feedback", json=body, headers=inbox.supervisor.headers)
    assert r.status_code == 201
    page = await client.get("/bot-feedback?limit=2", headers=inbox.supervisor.headers)
    assert page.status_code == 200, page.text
    meta = page.json()["meta"]
    assert len(page.json()["data"]) == 2 and meta["hasMore"] and meta["nextCursor"]
    rest = await client.get(f"/bot-feedback?limit=2&cursor={meta['nextCursor']}", headers=inbox.admin.headers)
    assert rest.json()["meta"] == {"nextCursor": None, "hasMore": False}
    ids = [f["id"] for f in page.json()["data"] + rest.json()["data"]]
    assert len(ids) == 3 == len(set(ids)) and first["id"] in ids


async def test_only_a_visible_bot_message_of_that_conversation(inbox, client, llm, runtime):
    conversation, bot, customer = await _bot_message(inbox, client, llm, runtime)
    other = await inbox.in_team("otra")
    cases = [
        ({"messageId": customer, "conversationId": conversation, "rating": 1}, inbox.agent),
        ({"messageId": bot, "conversationId": other, "rating": 1}, inbox.agent),
        ({"messageId": str(uuid.uuid4()), "conversationId": conversation, "rating": 1}, inbox.agent),
        ({"messageId": bot, "conversationId": conversation, "rating": 1}, inbox.outsider),  # cannot see it
    ]
    for body, member in cases:
        r = await client.post("/bot-feedback", json=body, headers=member.headers)
        assert r.status_code == 404 and error_code(r) == "NOT_FOUND", body


@pytest.mark.parametrize(
    "body",
    [
        {"messageId": "m", "conversationId": "c", "rating": 2},
        {"messageId": "m", "conversationId": "c", "rating": -1},
        {"messageId": "m", "conversationId": "c"},
        {"messageId": "m", "rating": 1},
        {"messageId": "m", "conversationId": "c", "rating": 1, "comment": "x" * 2001},
    ],
)
async def test_invalid_feedback_answers_400(client, factory, body):
    org = await factory.org()
    r = await client.post("/bot-feedback", json=body, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


async def test_bad_cursor_and_limit(client, factory):
    org = await factory.org()
    for query in ("cursor=garbage", "limit=0", "limit=101"):
        r = await client.get(f"/bot-feedback?{query}", headers=org.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", query


async def test_another_organizations_message_is_not_found(inbox, client, llm, runtime, factory):
    conversation, bot, _ = await _bot_message(inbox, client, llm, runtime)
    stranger = await factory.org()
    body = {"messageId": bot, "conversationId": conversation, "rating": 1}
    r = await client.post("/bot-feedback", json=body, headers=stranger.admin.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    assert (await client.post("/bot-feedback", json=body, headers=inbox.admin.headers)).status_code == 201
    assert (await client.get("/bot-feedback", headers=stranger.admin.headers)).json()["data"] == []
