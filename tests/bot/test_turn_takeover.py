"""The bot never talks over a human: a reply whose conversation an agent took over while the model
was thinking is dropped (the trace says DROPPED), never sent."""

from __future__ import annotations

import asyncio

from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.inbox import ConversationStatus
from tests.fakes.llm import Reply
from tests.fixtures.wait import eventually


async def test_an_agent_taking_over_while_the_model_is_slow_drops_the_reply(bot):
    bot.answers(Reply("Demasiado tarde", delay=1.5))
    conversation_id = await bot.writes("hola")
    await eventually(lambda: len(bot.llm.requests_with(bot.key)) == 1, "the model is asked")
    r = await bot.client.post(f"/conversations/{conversation_id}/takeover", headers=bot.admin.headers)
    assert r.status_code == 200, r.text
    [turn] = await bot.finished_turns(conversation_id)
    assert turn.decision is TurnDecision.DROPPED and turn.reply_message_id is None
    assert await bot.replies(conversation_id) == [] and bot.sent() == []
    conversation = await bot.conversation(conversation_id)
    assert conversation.status is ConversationStatus.HUMAN_HANDLING
    assert conversation.assigned_to_id == bot.admin.id


async def test_a_message_in_a_conversation_the_bot_left_gets_no_turn(bot):
    conversation_id = await bot.writes("hola")
    await bot.finished_turns(conversation_id)
    r = await bot.client.post(f"/conversations/{conversation_id}/takeover", headers=bot.admin.headers)
    assert r.status_code == 200, r.text
    wa_id = (await bot.conversation(conversation_id)).contact.wa_id
    assert await bot.writes("sigo aquí", wa_id=wa_id) == conversation_id
    await bot.runtime.jobs.kick("bot.turn", {"conversation_id": conversation_id})
    await asyncio.sleep(1.0)
    assert len(await bot.turns(conversation_id)) == 1 and len(bot.sent()) == 1
