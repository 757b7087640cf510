"""A turn of an N8N config: the customer's turn POSTed to the workflow, signed with the shared
secret over the raw body, once per turn; a workflow that is down is retried, then the conversation
is handed off; its answer comes back through /n8n/bot-response."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.inbox import ConversationStatus
from cxinbox.whatsapp.signature import sign, signature_matches
from tests.fakes.serving import ThreadedServer
from tests.fixtures.wait import eventually

SECRET = "n8n-turn-secret"


class Workflow(ThreadedServer):
    """An N8N webhook: records each POST (raw body and signature); answers ``statuses`` in turn."""

    def __init__(self) -> None:
        self.posts: list[tuple[bytes, str | None]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        super().__init__(
            Starlette(routes=[Route("/webhook/{hook}", self._take, methods=["POST"])]), name="n8n"
        )

    async def _take(self, request: Request) -> Response:
        raw = await request.body()
        with self._lock:
            self.posts.append((raw, request.headers.get("x-signature-256")))
            status = self.statuses.pop(0) if self.statuses else 200
        return JSONResponse({"ok": status < 300}, status_code=status)


@pytest.fixture(scope="module")
def workflow() -> Iterator[Workflow]:
    server = Workflow()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def n8n_bot(bot, workflow):
    hook = f"{workflow.url}/webhook/{bot.inbox.org.id}"
    r = await bot.client.put(
        "/bot-config",
        json={"mode": "N8N", "n8nWebhookUrl": hook, "n8nSecret": SECRET},
        headers=bot.admin.headers,
    )
    assert r.status_code == 200, r.text
    bot.hook = hook
    return bot


def posts_for(workflow: Workflow, bot) -> list[tuple[dict, bytes, str | None]]:
    return [
        (json.loads(raw), raw, signature)
        for raw, signature in workflow.posts
        if json.loads(raw)["conversationId"] in bot.conversation_ids
    ]


async def test_a_turn_is_posted_signed_once_and_answered_through_the_callback(n8n_bot, workflow):
    conversation_id = await n8n_bot.writes("hola, ¿tienen envíos?")
    n8n_bot.conversation_ids = {conversation_id}
    [turn] = await n8n_bot.finished_turns(conversation_id)
    assert turn.decision is TurnDecision.FORWARDED
    [(body, raw, signature)] = posts_for(workflow, n8n_bot)
    assert signature == sign(SECRET, raw) and signature_matches(signature, raw, [SECRET])
    assert body["message"]["text"] == "hola, ¿tienen envíos?" and body["message"]["senderType"] == "CUSTOMER"
    assert body["contact"]["name"] == "Customer" and body["contact"]["waId"]
    assert [m["text"] for m in body["history"]] == ["hola, ¿tienen envíos?"]
    assert n8n_bot.llm.requests_with(n8n_bot.key) == [] and n8n_bot.sent() == []
    answer = json.dumps(
        {"conversationId": conversation_id, "message": {"type": "text", "text": "Sí, a todo el país"}}
    )
    r = await n8n_bot.client.post(
        "/n8n/bot-response",
        content=answer.encode(),
        headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, answer.encode())},
    )
    assert r.status_code == 200, r.text
    [sent] = await n8n_bot.sent_count(1)
    assert sent["text"]["body"] == "Sí, a todo el país"


async def test_a_workflow_that_stays_down_is_retried_then_hands_off(n8n_bot, workflow):
    workflow.statuses = [503, 503, 503]
    conversation_id = await n8n_bot.writes("hola")
    n8n_bot.conversation_ids = {conversation_id}
    [turn] = await n8n_bot.finished_turns(conversation_id)
    assert turn.decision is TurnDecision.HANDOFF and turn.handoff_reason == "N8N_ERROR"
    assert len(posts_for(workflow, n8n_bot)) == 3
    assert (await n8n_bot.conversation(conversation_id)).status is ConversationStatus.OPEN


async def test_a_private_workflow_address_is_refused_by_the_guard(n8n_bot, runtime, workflow, monkeypatch):
    monkeypatch.setattr(runtime.settings, "allow_private_urls", False)
    conversation_id = await n8n_bot.writes("hola")
    n8n_bot.conversation_ids = {conversation_id}
    [turn] = await n8n_bot.finished_turns(conversation_id)
    assert turn.decision is TurnDecision.HANDOFF and turn.handoff_reason == "N8N_ERROR"
    assert posts_for(workflow, n8n_bot) == []
    assert "could not be reached" in turn.trace["errors"][0]["error"]


async def test_each_customers_turn_is_posted_once(n8n_bot, workflow):
    first = await n8n_bot.writes("uno")
    second = await n8n_bot.writes("dos")
    n8n_bot.conversation_ids = {first, second}
    await n8n_bot.finished_turns(first)
    await n8n_bot.finished_turns(second)
    await eventually(lambda: len(posts_for(workflow, n8n_bot)) == 2, "two posts")


async def test_the_sandbox_of_an_n8n_config_says_it_needs_an_llm_config(n8n_bot, workflow):
    before = len(workflow.posts)
    r = await n8n_bot.client.post(
        "/bot-config/test-sandbox", json={"message": "hola"}, headers=n8n_bot.admin.headers
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "SANDBOX_NEEDS_LLM_MODE"
    assert len(workflow.posts) == before
