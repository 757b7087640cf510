"""A customer's message in a conversation of the bot gets one reply from the LLM, sent through the
outbound pipeline as the bot: webhook in, the fake LLM answers, the fake Graph API sends once."""

from __future__ import annotations

import asyncio

from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.inbox import ConversationStatus, SenderType
from tests.fakes.llm import Reply


async def test_the_bot_answers_a_customer_once_through_whatsapp(bot):
    bot.answers(Reply("¡Hola! ¿En qué te ayudo?", input_tokens=40, output_tokens=9))
    conversation_id = await bot.writes("hola, tengo una duda")
    [turn] = await bot.finished_turns(conversation_id)
    [sent] = await bot.sent_count(1)
    assert sent["text"]["body"] == "¡Hola! ¿En qué te ayudo?"
    [reply] = await bot.replies(conversation_id)
    assert reply.sender_type is SenderType.BOT and reply.text == "¡Hola! ¿En qué te ayudo?"
    assert turn.decision is TurnDecision.REPLIED and turn.reply_message_id == reply.id
    [call] = turn.trace["llmCalls"]
    assert (call["inputTokens"], call["outputTokens"]) == (40, 9)
    assert turn.trace["promptChars"] > 0
    assert (await bot.conversation(conversation_id)).status is ConversationStatus.BOT_HANDLING
    [request] = bot.llm.requests_with(bot.key)
    system = request.body["messages"][0]["content"]
    assert "tengo una duda" not in system and "data to read" in system
    assert "hola, tengo una duda" in request.body["messages"][-1]["content"]
    assert {t["function"]["name"] for t in request.body["tools"]} == {"handoff_to_human"}


async def test_each_completion_carries_the_earlier_turns(bot):
    bot.answers(Reply("Primera respuesta"), Reply("Segunda respuesta"))
    wa_id = "5215550001111"
    conversation_id = await bot.writes("primera pregunta", wa_id=wa_id)
    await bot.finished_turns(conversation_id)
    await asyncio.sleep(1.1)
    assert await bot.writes("segunda pregunta", wa_id=wa_id) == conversation_id
    await bot.finished_turns(conversation_id, 2)
    await bot.sent_count(2)
    last = bot.llm.requests_with(bot.key)[-1].body["messages"][-1]["content"]
    assert last.index("primera pregunta") < last.index("Primera respuesta") < last.index("segunda pregunta")


async def test_usage_counts_each_reply_sent(bot):
    r = await bot.client.get("/plan/usage", headers=bot.admin.headers)
    before = r.json()["data"]
    await bot.finished_turns(await bot.writes("hola"))
    r = await bot.client.get("/plan/usage", headers=bot.admin.headers)
    assert r.status_code == 200
    assert _bot_replies(r.json()["data"]) == _bot_replies(before) + 1


def _bot_replies(usage) -> int:
    return usage["limits"]["monthlyBotReplies"]["used"]


async def test_an_agents_handoff_summary_reaches_the_next_turns(bot):
    bot.answers(Reply("Te comunico con un agente"), Reply("Claro, el reembolso va como crédito"))
    wa_id = "5215550002222"
    conversation_id = await bot.writes("quiero un reembolso", wa_id=wa_id)
    await bot.finished_turns(conversation_id)
    headers = bot.admin.headers
    r = await bot.client.post(f"/conversations/{conversation_id}/takeover", headers=headers)
    assert r.status_code == 200, r.text
    summary = "Ya validé el pedido 1234: ofrecer crédito en tienda"
    r = await bot.client.post(
        f"/conversations/{conversation_id}/return-to-bot", json={"handoffSummary": summary}, headers=headers
    )
    assert r.status_code == 200, r.text
    await asyncio.sleep(1.1)
    assert await bot.writes("¿entonces cómo queda?", wa_id=wa_id) == conversation_id
    await bot.finished_turns(conversation_id, 2)
    first, second = bot.llm.requests_with(bot.key)
    assert summary not in first.body["messages"][0]["content"]
    assert summary in second.body["messages"][0]["content"]
