"""Shadow runs (``/bot-config/{id}/shadow-runs``): a draft answers the organization's recorded
customer turns, nothing sent, and the report sets its answers beside the active config's. Also:
one unfinished run per config, validation, roles, and another organization's configs, runs and
conversations (404), whose turns never enter a run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cxinbox.models.inbox import ConversationStatus
from tests.bot.conftest import PROVIDERS, BotInbox, new_key
from tests.fakes.business_api import BusinessApi
from tests.fakes.llm import Reply
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import error_code
from tests.fixtures.wait import eventually
from tests.tools.helpers import make_connection, make_tool, order_tool

DRAFT_PROMPT = "Hand every refund request to a person."


async def draft_of(bot: BotInbox, *replies: Reply) -> tuple[str, str]:
    """A draft config on the fake LLM whose next answers are ``replies``; its id and key."""
    flavour, model = PROVIDERS["OPENAI"]
    key = new_key()
    bot.llm.script(key, *replies)
    body = {
        "name": "Reembolsos",
        "provider": "OPENAI",
        "model": model,
        "apiKey": key,
        "baseUrl": bot.llm.base(flavour),
        "systemPrompt": DRAFT_PROMPT,
    }
    r = await bot.client.post("/bot-config", json=body, headers=bot.admin.headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"], key


async def recorded(bot: BotInbox, *texts: str) -> list[str]:
    """A conversation per text, each answered by the active config (one turn each, in order)."""
    ids = []
    for text in texts:
        conversation_id = await bot.writes(text)
        await bot.finished_turns(conversation_id)
        ids.append(conversation_id)
    return ids


async def finished(bot: BotInbox, config_id: str, run_id: str) -> dict[str, Any]:
    url = f"/bot-config/{config_id}/shadow-runs/{run_id}"

    async def done() -> bool:
        r = await bot.client.get(url, headers=bot.admin.headers)
        assert r.status_code == 200, r.text
        return r.json()["data"]["status"] in ("DONE", "FAILED")

    await eventually(done, "the shadow run finished")
    return (await bot.client.get(url, headers=bot.admin.headers)).json()["data"]


async def test_a_draft_that_hands_off_where_the_active_replied_is_counted_and_nothing_is_sent(bot):
    bot.answers(
        Reply("Claro, te devuelvo el dinero", input_tokens=20), Reply("Abrimos a las 9", input_tokens=30)
    )
    refund, hours = await recorded(bot, "quiero un reembolso", "¿a qué hora abren?")
    sent_before = len(await bot.sent_count(2))  # the replies are delivered after their turns finish
    assert sent_before == 2
    # newest recorded turn first: the hours question, then the refund
    draft_id, draft_key = await draft_of(
        bot,
        Reply("Abrimos a las 9", input_tokens=40, output_tokens=9),
        Reply("", tool_call=("handoff_to_human", {"reason": "reembolso", "summary": "Pide reembolso"})),
    )

    r = await bot.client.post(
        f"/bot-config/{draft_id}/shadow-runs", json={"turns": 5}, headers=bot.admin.headers
    )
    assert r.status_code == 202, r.text
    queued = r.json()["data"]
    assert queued["status"] == "QUEUED" and queued["requestedTurns"] == 2 and queued["replay"] is False
    run = await finished(bot, draft_id, queued["id"])

    assert run["status"] == "DONE" and run["progress"] == 2 and run["error"] is None
    by_conversation = {t["conversationId"]: t for t in run["results"]}
    assert list(by_conversation) == [hours, refund]
    refund_turn = by_conversation[refund]
    assert refund_turn["customerText"] == "quiero un reembolso"
    assert refund_turn["active"]["decision"] == "REPLIED"
    assert refund_turn["active"]["reply"] == "Claro, te devuelvo el dinero"
    assert refund_turn["active"]["inputTokens"] == 20
    assert refund_turn["draft"]["decision"] == "HANDOFF"
    assert refund_turn["draft"]["handoffReason"] == "HANDOFF_TOOL"
    assert refund_turn["handoffDiffers"] is True
    hours_turn = by_conversation[hours]
    assert hours_turn["handoffDiffers"] is False and hours_turn["replyDiffers"] is False
    totals = run["totals"]
    assert totals["turnsCompared"] == 2
    assert totals["handoffDisagreements"] == 1
    assert totals["draftFailures"] == 0
    assert totals["active"]["handoffs"] == 0 and totals["draft"]["handoffs"] == 1
    assert totals["active"]["avgInputTokens"] == 25.0
    assert totals["draft"]["avgInputTokens"] == pytest.approx((40 + 11) / 2)

    # the draft read its own prompt and each conversation as it was when the turn came
    requests = bot.llm.requests_with(draft_key)
    assert len(requests) == 2
    assert all(DRAFT_PROMPT in str(q.body["messages"][0]["content"]) for q in requests)
    assert "quiero un reembolso" in str(requests[1].body["messages"])
    assert "Claro, te devuelvo" not in str(requests[1].body["messages"])
    # nothing went to WhatsApp, and the conversations are still the bot's
    assert len(bot.sent()) == sent_before
    for conversation_id in (refund, hours):
        assert (await bot.conversation(conversation_id)).status is ConversationStatus.BOT_HANDLING

    listed = await bot.client.get(f"/bot-config/{draft_id}/shadow-runs", headers=bot.inbox.supervisor.headers)
    assert listed.status_code == 200
    [summary] = listed.json()["data"]
    assert summary["id"] == run["id"] and summary["totals"]["handoffDisagreements"] == 1
    assert "results" not in summary


async def test_one_unfinished_run_per_config_and_the_active_config_replays(bot):
    await recorded(bot, "hola")
    draft_id, _ = await draft_of(bot, Reply("tarde", delay=1.5))
    url = f"/bot-config/{draft_id}/shadow-runs"
    first = await bot.client.post(url, headers=bot.admin.headers)
    assert first.status_code == 202, first.text
    second = await bot.client.post(url, json={"turns": 1}, headers=bot.admin.headers)
    assert second.status_code == 409 and error_code(second) == "SHADOW_RUN_IN_PROGRESS"
    await finished(bot, draft_id, first.json()["data"]["id"])
    again = await bot.client.post(url, json={"turns": 1}, headers=bot.admin.headers)
    assert again.status_code == 202, again.text
    await finished(bot, draft_id, again.json()["data"]["id"])

    bot.answers(Reply("hola de nuevo"))
    active_id = bot.config["id"]
    replay = await bot.client.post(f"/bot-config/{active_id}/shadow-runs", headers=bot.admin.headers)
    assert replay.status_code == 202, replay.text
    run = await finished(bot, active_id, replay.json()["data"]["id"])
    assert run["replay"] is True and run["totals"]["turnsCompared"] == 1


async def test_validation_roles_and_missing_turns(bot):
    draft_id, _ = await draft_of(bot)
    url = f"/bot-config/{draft_id}/shadow-runs"
    nothing = await bot.client.post(url, headers=bot.admin.headers)
    assert nothing.status_code == 409 and error_code(nothing) == "NO_RECORDED_TURNS"
    for body in ({"turns": 0}, {"turns": 201}, {"turns": "many"}, {"conversationIds": "x"}):
        r = await bot.client.post(url, json=body, headers=bot.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body
    assert (await bot.client.post(url)).status_code == 401
    assert (await bot.client.get(url)).status_code == 401
    for member in (bot.inbox.agent, bot.inbox.supervisor):
        assert (await bot.client.post(url, headers=member.headers)).status_code == 403
    assert (await bot.client.get(url, headers=bot.inbox.agent.headers)).status_code == 403
    assert (await bot.client.get(f"{url}/nope", headers=bot.admin.headers)).status_code == 404
    missing = await bot.client.post("/bot-config/nope/shadow-runs", headers=bot.admin.headers)
    assert missing.status_code == 404


async def test_another_organizations_configs_runs_and_turns_stay_out_of_reach(
    bot, client, runtime, factory, graph, llm
):
    other = BotInbox(await make_inbox(client, runtime, factory, graph), llm, graph)
    await other.configure(Reply("respuesta de la otra"))
    await other.toggle("bot-enabled", True)
    [theirs] = await recorded(other, "secreto de la otra organización")
    bot.answers(Reply("nuestra respuesta"))
    [ours] = await recorded(bot, "nuestra pregunta")
    draft_id, draft_key = await draft_of(bot, Reply("borrador"))
    url = f"/bot-config/{draft_id}/shadow-runs"

    # their conversation cannot be named in our run, nor our config used by them
    r = await bot.client.post(url, json={"conversationIds": [theirs]}, headers=bot.admin.headers)
    assert r.status_code == 404
    assert (await other.client.post(url, headers=other.admin.headers)).status_code == 404
    assert (await other.client.get(url, headers=other.admin.headers)).status_code == 404

    r = await bot.client.post(url, json={"turns": 200}, headers=bot.admin.headers)
    assert r.status_code == 202, r.text
    run = await finished(bot, draft_id, r.json()["data"]["id"])
    assert [t["conversationId"] for t in run["results"]] == [ours]
    assert "secreto" not in str(bot.llm.requests_with(draft_key))
    their_draft, _ = await draft_of(other)
    for path in (f"{url}/{run['id']}", f"/bot-config/{their_draft}/shadow-runs/{run['id']}"):
        assert (await other.client.get(path, headers=other.admin.headers)).status_code == 404


@pytest.fixture(scope="module")
def orders_api() -> Iterator[BusinessApi]:
    server = BusinessApi()
    server.start()
    yield server
    server.stop()


async def test_tools_are_never_executed_and_the_report_says_which_change_data(bot, orders_api):
    connection = await make_connection(bot.client, bot.admin, orders_api)
    await make_tool(bot.client, bot.admin, order_tool(connection["id"]))
    await make_tool(
        bot.client,
        bot.admin,
        order_tool(connection["id"], name="cancel_order", method="POST", changesData=True),
    )
    bot.answers(Reply("", tool_call=("order_status", {"orderId": "A-1"})), Reply("Va en camino"))
    [conversation_id] = await recorded(bot, "¿y mi pedido A-1?")
    calls_before = orders_api.count()
    draft_id, _ = await draft_of(
        bot,
        Reply("", tool_call=("cancel_order", {"orderId": "A-1"})),
        Reply("", tool_call=("order_status", {"orderId": "A-1"})),
        Reply("Listo, cancelado"),
    )
    r = await bot.client.post(f"/bot-config/{draft_id}/shadow-runs", headers=bot.admin.headers)
    assert r.status_code == 202, r.text
    run = await finished(bot, draft_id, r.json()["data"]["id"])
    [turn] = run["results"]
    assert turn["conversationId"] == conversation_id
    assert turn["active"]["tools"] == [{"name": "order_status", "changesData": False, "executed": True}]
    assert turn["draft"]["tools"] == [
        {"name": "cancel_order", "changesData": True, "executed": False},
        {"name": "order_status", "changesData": False, "executed": False},
    ]
    assert turn["draft"]["reply"] == "Listo, cancelado" and turn["replyDiffers"] is True
    assert run["totals"]["toolsSimulated"] == 2
    assert orders_api.count() == calls_before
