"""Exactly one reply per customer turn, whatever repeats: Meta redelivering the webhook, the job run
again, two workers running the same turn at once, a worker that died mid-turn (its lease expires and
the turn is taken again), a worker whose lease was taken over (it sends nothing)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import select, update

from cxinbox.bot import turn_claims
from cxinbox.core.clock import utcnow
from cxinbox.core.job_store import HANDED_OVER
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.inbox import Contact, Conversation, Message, SenderType
from cxinbox.models.jobs import ScheduledJob
from tests.fakes.llm import Reply
from tests.fixtures.inbox import text_message
from tests.fixtures.wait import eventually
from tests.fixtures.whatsapp import deliver, unique_number

TURN_JOB = "bot.turn"


async def test_a_redelivered_webhook_gives_one_reply(bot):
    bot.answers(Reply("Una sola vez"))
    wa_id = unique_number()
    body = text_message(bot.inbox.account.phone_number_id, wa_id, "Ana", "hola", timestamp=int(time.time()))
    await deliver(bot.client, bot.runtime, body)
    await deliver(bot.client, bot.runtime, body)  # Meta delivers again
    conversation_id = await _conversation_of(bot, wa_id)
    await bot.finished_turns(conversation_id)
    await bot.sent_count(1)
    await deliver(bot.client, bot.runtime, body)
    await bot.runtime.jobs.kick(TURN_JOB, {"conversation_id": conversation_id})  # the job again
    await asyncio.sleep(1.0)
    assert len(bot.sent()) == 1 and len(await bot.replies(conversation_id)) == 1
    assert len(bot.llm.requests_with(bot.key)) == 1
    assert len(await bot.turns(conversation_id)) == 1


async def test_two_workers_running_the_same_turn_reply_once(bot):
    await bot.configure(Reply("Respuesta lenta", delay=0.8), debounceSeconds=30)
    conversation_id = await bot.writes("hola")  # its debounced turn waits 30 s
    await asyncio.gather(
        bot.runtime.jobs.kick(TURN_JOB, {"conversation_id": conversation_id}),
        bot.runtime.jobs.kick(TURN_JOB, {"conversation_id": conversation_id}),
    )
    [turn] = await bot.finished_turns(conversation_id)
    await bot.sent_count(1)
    await asyncio.sleep(1.0)
    assert turn.decision is TurnDecision.REPLIED
    assert len(bot.sent()) == 1 and len(bot.llm.requests_with(bot.key)) == 1


async def test_a_turn_whose_worker_died_is_taken_again_and_answered_once(bot):
    await bot.configure(Reply("Aquí estoy"), debounceSeconds=30)
    conversation_id = await bot.writes("hola")
    async with bot.runtime.unit_of_work() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        message = await turn_claims.latest_customer_message(session, conversation)
        session.add(
            BotTurn(
                organization_id=conversation.organization_id,
                conversation_id=conversation_id,
                message_id=message.id,
                bot_config_id=bot.config["id"],
                state=TurnState.RUNNING,
                lease_token="a-worker-that-died",
                lease_until=utcnow() - timedelta(seconds=1),
                trace={},
            )
        )
    await bot.runtime.jobs.kick(TURN_JOB, {"conversation_id": conversation_id})
    [turn] = await bot.finished_turns(conversation_id)
    await bot.sent_count(1)
    assert turn.decision is TurnDecision.REPLIED and turn.lease_token != "a-worker-that-died"


async def test_a_worker_whose_lease_was_taken_over_finishes_nothing(bot):
    await bot.configure(debounceSeconds=30)
    conversation_id = await bot.writes("hola")
    async with bot.runtime.unit_of_work() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        message = await turn_claims.latest_customer_message(session, conversation)
        first, first_token = await turn_claims.claim(session, conversation, message, bot.config["id"])
        first.lease_until = utcnow() - timedelta(seconds=1)  # it stalled past its lease
    async with bot.runtime.unit_of_work() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        second, second_token = await turn_claims.claim(session, conversation, message, bot.config["id"])
        assert second.id == first.id and second_token != first_token
    async with bot.runtime.unit_of_work() as session:
        done = {
            "decision": TurnDecision.FAILED,
            "handoff_reason": None,
            "reply_message_id": None,
            "trace": {},
        }
        assert not await turn_claims.finish(session, first, first_token, **done)
        assert await turn_claims.finish(session, second, second_token, **done)
    async with bot.runtime.unit_of_work() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        assert await turn_claims.claim(session, conversation, message, bot.config["id"]) is None


async def test_a_burst_of_messages_is_one_turn(bot):
    await bot.configure(Reply("Te respondo todo junto"), debounceSeconds=1)
    wa_id = unique_number()
    conversation_id = await bot.writes("hola", wa_id=wa_id)
    await bot.writes("tengo una pregunta", wa_id=wa_id)
    await bot.writes("sobre mi factura", wa_id=wa_id)
    [turn] = await bot.finished_turns(conversation_id)
    await bot.sent_count(1)
    await asyncio.sleep(1.5)
    assert len(bot.sent()) == 1 and len(await bot.turns(conversation_id)) == 1
    [request] = bot.llm.requests_with(bot.key)
    assert "sobre mi factura" in request.body["messages"][-1]["content"]
    async with bot.runtime.sessionmaker() as session:
        last = await session.scalar(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.sender_type == SenderType.CUSTOMER)
            .order_by(Message.ordered_at.desc(), Message.id.desc())
        )
    assert turn.message_id == last.id


async def _conversation_of(bot, wa_id: str) -> str:
    async def found() -> bool:
        return bool(await _lookup(bot, wa_id))

    await eventually(found, "the conversation")
    return await _lookup(bot, wa_id)


async def _lookup(bot, wa_id: str) -> str | None:
    async with bot.runtime.sessionmaker() as session:
        return await session.scalar(
            select(Conversation.id)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.organization_id == bot.inbox.org.id, Contact.wa_id == wa_id)
        )


async def test_a_turn_whose_lease_is_taken_while_the_model_thinks_applies_nothing(bot):
    """The turn is marked DONE after its reply is written, in the same transaction: when its lease
    is no longer its own, that transaction rolls back, reply included."""
    bot.answers(Reply("Respuesta de un trabajador que perdió el turno", delay=1.0))
    conversation_id = await bot.writes("hola")
    await eventually(lambda: len(bot.llm.requests_with(bot.key)) == 1, "the model is asked")
    async with bot.runtime.unit_of_work() as session:
        [turn] = (
            await session.scalars(select(BotTurn).where(BotTurn.conversation_id == conversation_id))
        ).all()
        turn.lease_token = "another-worker"  # taken over: this worker's lease ran out meanwhile
    await asyncio.sleep(1.5)
    await bot.runtime.jobs.wait_idle()
    [turn] = await bot.turns(conversation_id)
    assert turn.state is TurnState.RUNNING and turn.lease_token == "another-worker"
    assert turn.decision is None and turn.trace == {}
    assert await bot.replies(conversation_id) == [] and bot.sent() == []


async def test_a_turn_whose_hand_over_never_happened_is_answered_once_from_the_schedule(bot, monkeypatch):
    """The process died between the drain's commit and the turn's kick: the stored run (due a while
    later, ``job_store.HANDED_OVER_FALLBACK``) is what is left; the schedule's look then runs the turn
    once, and the turn deletes that row. A turn handed over as usual leaves no row either."""
    conversation_id = await bot.writes("hola")
    await bot.finished_turns(conversation_id)
    assert await _scheduled_turns(bot, conversation_id) == []

    async def died(name, kwargs) -> None:
        """The process died right after the drain's commit."""

    monkeypatch.setattr(bot.runtime.jobs, "hand_over", died)
    bot.answers(Reply("Aquí sigo"))
    conversation_id = await bot.writes("hola")
    await asyncio.sleep(0.5)
    assert await bot.turns(conversation_id) == []
    [row] = await _scheduled_turns(bot, conversation_id)
    assert row.attempt == HANDED_OVER
    async with bot.runtime.unit_of_work() as session:
        await session.execute(update(ScheduledJob).where(ScheduledJob.id == row.id).values(run_at=utcnow()))
    bot.runtime.jobs.wake()
    [turn] = await bot.finished_turns(conversation_id)
    await bot.sent_count(2)
    await asyncio.sleep(0.5)
    assert turn.decision is TurnDecision.REPLIED and len(await bot.replies(conversation_id)) == 1
    assert await _scheduled_turns(bot, conversation_id) == []


async def _scheduled_turns(bot, conversation_id: str) -> list[ScheduledJob]:
    async with bot.runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(ScheduledJob).where(ScheduledJob.debounce_key == f"{TURN_JOB}:{conversation_id}")
        )
        return list(rows)
