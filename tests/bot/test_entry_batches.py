"""The bot's entry over a drain's batch: a few statements whatever its size (the turns scheduled
together, returning contacts read together), and each conversation's decision and turn as alone."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from cxinbox.models.inbox import ConversationStatus
from cxinbox.models.jobs import ScheduledJob
from cxinbox.models.whatsapp import WebhookEvent
from cxinbox.whatsapp.inbound.processor import process_events
from tests.fakes.llm import Reply
from tests.fixtures.inbox import set_fields, text_message
from tests.fixtures.statements import counting
from tests.fixtures.whatsapp import contacts_of, conversations_of


def _customers(size: int) -> list[str]:
    prefix = uuid.uuid4().int % 10**6
    return [f"52{prefix:06d}{n:04d}" for n in range(size)]


async def _process_together(bot, wa_ids: list[str]) -> list[str]:
    """A message of each of ``wa_ids`` processed in one batch; the statements it took (its writes
    included, the events' claim and the commit aside)."""
    account = bot.inbox.account
    async with bot.runtime.unit_of_work() as session:
        events = [
            WebhookEvent(
                body=text_message(account.phone_number_id, w, "Cliente", "hola"),
                phone_number_id=account.phone_number_id,
            )
            for w in wa_ids
        ]
        session.add_all(events)
    async with bot.runtime.unit_of_work() as session:
        loaded = await session.scalars(
            select(WebhookEvent).where(WebhookEvent.id.in_([e.id for e in events]))
        )
        async with counting(session) as statements:
            await process_events(session, bot.runtime, list(loaded))
            await session.flush()
    return statements


@pytest.mark.parametrize("size", [1, 7])
async def test_a_batch_the_bot_takes_takes_the_same_few_statements_whatever_its_size(bot, size):
    """Pinned: the statements of the drain's batch with the bot off (tests/whatsapp/test_batches.py),
    plus one upsert of every turn it schedules, plus one read of the returning contacts when the
    bot does not take them."""
    await bot.configure(debounceSeconds=30)  # the turns wait in the schedule
    statements = await _process_together(bot, _customers(size))
    assert sum(s.lstrip().upper().startswith("INSERT INTO SCHEDULED_JOBS") for s in statements) == 1
    assert len(statements) == 12
    await bot.bot_mode(handlesReopened=False)
    assert len(await _process_together(bot, _customers(size))) == 13
    async with bot.runtime.sessionmaker() as session:
        turns = (await session.scalars(select(ScheduledJob).where(ScheduledJob.job == "bot.turn"))).all()
    conversations = await conversations_of(bot.runtime, bot.inbox.org.id)
    assert {c.status for c in conversations} == {ConversationStatus.BOT_HANDLING}
    assert {t.kwargs["conversation_id"] for t in turns} >= {c.id for c in conversations}


async def test_in_a_batch_only_the_returning_contacts_go_to_the_humans_without_handles_reopened(bot):
    """Each conversation of the batch as if it came alone: the returning contacts' are routed, the
    new contacts' start with the bot, and each of those gets its turn (due at once: handed over after
    the commit)."""
    returning = _customers(2)
    await _process_together(bot, returning)
    for conversation in await conversations_of(bot.runtime, bot.inbox.org.id):
        await set_fields(bot.runtime, conversation.id, status=ConversationStatus.CLOSED)
    await bot.bot_mode(handlesReopened=False)
    new = _customers(3)
    bot.answers(*(Reply(f"respuesta {n}") for n in range(len(new))))
    await _process_together(bot, [returning[0], *new, returning[1]])
    wa_ids = {c.id: c.wa_id for c in await contacts_of(bot.runtime, bot.inbox.org.id)}
    by_customer = {
        wa_ids[c.contact_id]: c
        for c in await conversations_of(bot.runtime, bot.inbox.org.id)
        if c.status is not ConversationStatus.CLOSED
    }
    assert {w: by_customer[w].status for w in returning} == dict.fromkeys(returning, ConversationStatus.OPEN)
    assert {w: by_customer[w].status for w in new} == dict.fromkeys(new, ConversationStatus.BOT_HANDLING)
    for wa_id in new:
        await bot.finished_turns(by_customer[wa_id].id)
