"""The bot's tool loop: the model may call the organization's tools (up to four calls and
``bot_tool_seconds_per_turn`` of their time a turn, then it answers), each run outside any
transaction and its result given back to the model; each call is in the trace. The sandbox runs
the same loop as a dry run unless asked to call the tools."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from cxinbox.bot.mind import read_mind
from cxinbox.bot.setup import turn_setup_of
from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.inbox import Contact
from tests.fakes.business_api import BusinessApi
from tests.fakes.llm import Reply
from tests.fixtures.statements import counting
from tests.tools.helpers import make_connection, make_tool, order_tool


@pytest.fixture(scope="module")
def orders_api() -> Iterator[BusinessApi]:
    server = BusinessApi()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def with_tool(bot, orders_api):
    connection = await make_connection(bot.client, bot.admin, orders_api)
    await make_tool(bot.client, bot.admin, order_tool(connection["id"]))
    return bot


def order_lookup(order_id: str) -> Reply:
    return Reply("", tool_call=("order_status", {"orderId": order_id}))


async def test_the_model_calls_a_tool_and_answers_with_its_result(with_tool, orders_api):
    bot = with_tool
    bot.answers(order_lookup("A-17"), Reply("Tu pedido A-17 ya fue enviado."))
    before = orders_api.count()
    conversation_id = await bot.writes("¿dónde está mi pedido A-17?")
    [turn] = await bot.finished_turns(conversation_id)
    assert turn.decision is TurnDecision.REPLIED
    assert orders_api.count() == before + 1 and orders_api.last().raw_path == "/v1/orders/A-17"
    [sent] = await bot.sent_count(1)
    assert sent["text"]["body"] == "Tu pedido A-17 ya fue enviado."
    first, second = bot.llm.requests_with(bot.key)
    assert {t["function"]["name"] for t in first.body["tools"]} == {"order_status", "handoff_to_human"}
    assert "shipped" in second.body["messages"][-1]["content"]
    [call] = turn.trace["tools"]
    assert call["name"] == "order_status" and call["ok"] is True and call["arguments"] == {"orderId": "A-17"}
    assert [c["toolCalls"] for c in turn.trace["llmCalls"]] == [["order_status"], []]


async def test_a_turn_makes_at_most_four_tool_calls(with_tool, orders_api):
    bot = with_tool
    bot.answers(*(order_lookup(f"B-{i}") for i in range(4)), Reply("Ya revisé todo."))
    before = orders_api.count()
    conversation_id = await bot.writes("revisa mis pedidos")
    [turn] = await bot.finished_turns(conversation_id)
    assert orders_api.count() == before + 4 and len(turn.trace["tools"]) == 4
    requests = bot.llm.requests_with(bot.key)
    assert len(requests) == 5
    assert [t["function"]["name"] for t in requests[-1].body["tools"]] == ["handoff_to_human"]
    assert turn.decision is TurnDecision.REPLIED
    await bot.sent_count(1)


async def test_a_turn_stops_calling_tools_when_its_time_for_them_is_up(bot, orders_api, monkeypatch):
    """Each call takes 400 ms against a 600 ms budget: the first finishes, the second is cut when the
    budget runs out, the third is never started; the model is told the time is up."""
    monkeypatch.setattr(bot.runtime.settings, "bot_tool_seconds_per_turn", 0.6)
    connection = await make_connection(bot.client, bot.admin, orders_api, baseUrl=orders_api.url)
    await make_tool(bot.client, bot.admin, order_tool(connection["id"], name="slow_lookup", path="/slow/400"))
    bot.answers(
        *(Reply("", tool_call=("slow_lookup", {"orderId": f"S-{i}"})) for i in range(3)),
        Reply("No pude revisarlo a tiempo."),
    )
    before = orders_api.count()
    conversation_id = await bot.writes("revisa mis pedidos lentos")
    [turn] = await bot.finished_turns(conversation_id)
    calls = turn.trace["tools"]
    assert len(calls) == 3
    assert calls[-1]["started"] is False and calls[-1]["timeUp"] is True
    assert calls[1]["timeUp"] is True and calls[1]["ok"] is False
    assert orders_api.count() - before == sum(c["started"] for c in calls) <= 2
    requests = bot.llm.requests_with(bot.key)
    assert "time for tool calls is up" in requests[-1].body["messages"][-1]["content"]
    assert turn.decision is TurnDecision.REPLIED
    [sent] = await bot.sent_count(1)
    assert sent["text"]["body"] == "No pude revisarlo a tiempo."


async def test_the_sandbox_runs_the_loop_dry_unless_asked(with_tool, orders_api):
    bot = with_tool
    bot.answers(order_lookup("C-1"), Reply("Simulado"), order_lookup("C-2"), Reply("Real"))
    before = orders_api.count()
    r = await bot.client.post(
        "/bot-config/test-sandbox", json={"message": "pedido C-1"}, headers=bot.admin.headers
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["reply"] == "Simulado" and orders_api.count() == before
    assert {"type": "TOOL", "name": "order_status", "detail": "dry run: the tool was not called"} in data[
        "actions"
    ]
    r = await bot.client.post(
        "/bot-config/test-sandbox",
        json={"message": "pedido C-2", "sessionId": data["sessionId"], "executeTools": True},
        headers=bot.admin.headers,
    )
    assert r.json()["data"]["reply"] == "Real" and orders_api.count() == before + 1
    assert bot.sent() == []


async def test_a_turns_tools_fill_the_contact_it_read_with_its_setup(with_tool, orders_api):
    """A turn reads its conversation with the contact (``turn_setup_of``): the tools' ``contact.*``
    variables come from it, with no read of their own in the session that reads the turn's mind (a
    read session of its own on SQLite), and reach the business's API."""
    bot = with_tool
    connection = await make_connection(bot.client, bot.admin, orders_api)
    await make_tool(
        bot.client,
        bot.admin,
        order_tool(connection["id"], name="order_for", query={"customer": "{{contact.name}}"}),
    )
    bot.answers(Reply("", tool_call=("order_for", {"orderId": "D-1"})), Reply("Listo."))
    conversation_id = await bot.writes("pedido D-1")
    await bot.finished_turns(conversation_id)
    async with bot.runtime.sessionmaker() as session:
        contact = await session.get_one(Contact, (await bot.conversation(conversation_id)).contact_id)
    assert contact.name and orders_api.last().query == urlencode({"customer": contact.name})

    async with bot.runtime.unit_of_work() as session:
        read = await turn_setup_of(session, conversation_id)
    assert read is not None and read.setup.config is not None
    async with bot.runtime.read_session() as reader, counting(reader) as statements:
        mind = await read_mind(
            reader,
            bot.runtime,
            read.setup.config,
            read.setup.settings,
            [],
            "",
            conversation=read.conversation,
        )
    assert statements == [] and set(mind.tools) == {"order_status", "order_for"}
    assert mind.tool_context["contact.name"] == contact.name
    assert mind.tool_context["contact.waId"] == contact.wa_id
