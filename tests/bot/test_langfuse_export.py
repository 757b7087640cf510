"""Optional export of turn traces to Langfuse (``CXINBOX_LANGFUSE_*``): off unless configured; once
configured, each stored turn (a conversation's and the sandbox's) is posted to the ingestion API with
basic auth as a trace, its LLM calls and its spans; a failure that may pass is retried, any other is
dropped, and neither touches the turn or the metrics; the host goes through the outbound guard."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator

import pytest

from cxinbox.bot.langfuse import export_trace
from cxinbox.models.bot_turns import TurnDecision
from tests.fakes.langfuse import FakeLangfuse
from tests.fakes.llm import Reply
from tests.fixtures.wait import eventually


@pytest.fixture
def langfuse() -> Iterator[FakeLangfuse]:
    server = FakeLangfuse()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def exported(bot, langfuse, monkeypatch):
    """The bot's process exports to the fake Langfuse."""
    monkeypatch.setattr(bot.runtime.settings, "langfuse_host", langfuse.url + "/")
    monkeypatch.setattr(bot.runtime.settings, "langfuse_public_key", langfuse.state.public_key)
    monkeypatch.setattr(bot.runtime.settings, "langfuse_secret_key", langfuse.state.secret_key)
    return bot


async def _quality(bot) -> dict:
    r = await bot.client.get("/bot-config/metrics/quality?days=1", headers=bot.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_a_turn_is_exported_as_a_trace_with_its_generation(exported, langfuse):
    exported.answers(Reply("Abrimos a las 9", input_tokens=40, output_tokens=9))
    conversation_id = await exported.writes("¿a qué hora abren?")
    [turn] = await exported.finished_turns(conversation_id)
    await eventually(lambda: len(langfuse.state.received) == 1, "the trace reached Langfuse")
    [received] = langfuse.state.received
    user, _, password = (
        base64.b64decode(received.authorization.removeprefix("Basic ")).decode().partition(":")
    )
    assert (user, password) == (langfuse.state.public_key, langfuse.state.secret_key)
    by_type = {}
    for event in received.batch:
        by_type.setdefault(event["type"], []).append(event["body"])
    [trace] = by_type["trace-create"]
    assert trace["id"] == turn.id and trace["sessionId"] == conversation_id
    assert trace["input"] == "¿a qué hora abren?" and trace["output"] == "Abrimos a las 9"
    assert trace["metadata"]["decision"] == TurnDecision.REPLIED.value
    [generation] = by_type["generation-create"]
    assert generation["traceId"] == turn.id and generation["model"] == "gpt-4o-mini"
    assert generation["usageDetails"] == {"input": 40, "output": 9, "total": 49}
    assert generation["startTime"] <= generation["endTime"]
    assert {s["name"] for s in by_type["span-create"]} == {"retrieval"}
    assert len({e["id"] for e in received.batch}) == len(received.batch)
    assert langfuse.state.secret_key not in str(received.batch)


async def test_the_sandbox_turn_is_exported_too(exported, langfuse):
    exported.answers(Reply("hola"))
    r = await exported.client.post(
        "/bot-config/test-sandbox", json={"message": "hola"}, headers=exported.admin.headers
    )
    assert r.status_code == 200, r.text
    await eventually(lambda: len(langfuse.state.received) == 1, "the sandbox trace reached Langfuse")
    [trace] = [e["body"] for e in langfuse.events() if e["type"] == "trace-create"]
    assert trace["id"] == r.json()["data"]["traceId"] and "sandbox" in trace["tags"]


async def test_an_unavailable_langfuse_is_retried_and_a_refusal_is_dropped(exported, langfuse):
    langfuse.fail_next(503)
    first = await exported.writes("uno")
    await exported.finished_turns(first)
    await eventually(lambda: len(langfuse.state.received) == 1, "the retried export arrived")
    assert langfuse.state.requests == 2

    before = await _quality(exported)
    langfuse.state.secret_key = "sk-lf-rotated"  # our key is refused from now on: 401, dropped
    second = await exported.writes("dos")
    [turn] = await exported.finished_turns(second)
    await eventually(lambda: langfuse.state.requests == 3, "the refused export was tried")
    await asyncio.sleep(3)  # past a retry's backoff: none comes
    assert langfuse.state.requests == 3 and len(langfuse.state.received) == 1
    assert turn.decision is TurnDecision.REPLIED
    assert len(exported.sent()) == 2
    after = await _quality(exported)
    assert after["sessions"] == before["sessions"] + 1


async def test_unset_nothing_is_sent(bot, langfuse):
    assert bot.runtime.settings.langfuse is None
    conversation_id = await bot.writes("hola")
    await bot.finished_turns(conversation_id)
    await asyncio.sleep(1)
    assert langfuse.state.requests == 0


async def test_the_host_goes_through_the_outbound_guard(exported, langfuse, monkeypatch):
    conversation_id = await exported.writes("hola")
    [turn] = await exported.finished_turns(conversation_id)
    await eventually(lambda: langfuse.state.requests == 1, "the first export")
    monkeypatch.setattr(exported.runtime.settings, "allow_private_urls", False)
    async with exported.runtime.unit_of_work() as session:
        await export_trace(exported.runtime, session, turn_id=turn.id)  # refused: dropped, not raised
    assert langfuse.state.requests == 1
