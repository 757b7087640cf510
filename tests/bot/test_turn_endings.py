"""Turns that finish together are written in one group (``bot.turn_endings``): one transaction, their
messages, outbox rows and events one INSERT each, and what fails for one of them touches no other
(a conversation an agent took over, a lease taken over, a write that fails)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from cxinbox.adapters.llm.base import Usage
from cxinbox.bot import turn_claims
from cxinbox.bot.setup import turn_setup_of
from cxinbox.bot.thinking import Thought
from cxinbox.bot.turn_endings import Ending, Held, endings_of
from cxinbox.bot.usage import monthly_replies
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.event_log import EventRecord
from cxinbox.models.inbox import ConversationStatus
from tests.fixtures.statements import hearing_statements
from tests.fixtures.whatsapp import unique_number


async def held_turns(bot, count: int) -> list[Held]:
    """``count`` customers' turns, claimed as a worker claims them (their jobs wait 30 s)."""
    await bot.configure(debounceSeconds=30)
    held = []
    for _ in range(count):
        conversation_id = await bot.writes("¿envían a Monterrey?", wa_id=unique_number())
        async with bot.runtime.unit_of_work() as session:
            read = await turn_setup_of(session, conversation_id)
            assert read is not None and read.message is not None
            claimed = await turn_claims.claim(session, read.conversation, read.message, bot.config["id"])
            assert claimed is not None
            held.append(Held(read.conversation, read.message, *claimed, read.setup, None))
    return held


def replying(held: Held, text: str = "Sí, enviamos a Monterrey.", **trace: Any) -> Ending:
    return Ending(held, Thought(reply=text, usage=Usage(input_tokens=10, output_tokens=5), trace=trace))


async def end_together(bot, leader: Held, endings: list[Ending]) -> list[BaseException | None]:
    """``endings`` handed to the group commit while ``leader``'s ending, which came first, is being
    written (alone): they wait for it, then are written in one group. What each raised."""
    everyone = [replying(leader), *endings]
    results = await asyncio.gather(*(end(bot, e) for e in everyone), return_exceptions=True)
    assert results[0] is None
    return results[1:]


async def end(bot, ending: Ending) -> None:
    """``ending`` ended as its job ends it, with the job's session."""
    async with bot.runtime.sessionmaker() as session:
        await endings_of(bot.runtime).write(ending, session)


@contextmanager
def inserts(bot) -> Iterator[dict[str, int]]:
    """The INSERTs into messages and message_outbox the engine runs meanwhile."""
    counted = {"messages": 0, "message_outbox": 0}

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        for table in counted:
            if statement.startswith(f"INSERT INTO {table} "):
                counted[table] += 1

    with hearing_statements(bot.runtime, count):
        yield counted


async def turn_of(bot, held: Held) -> BotTurn:
    async with bot.runtime.sessionmaker() as session:
        return await session.get_one(BotTurn, held.turn.id)


async def replies_this_month(bot) -> int:
    async with bot.runtime.sessionmaker() as session:
        return await monthly_replies(session, bot.inbox.org.id)


async def test_turns_finishing_together_are_written_as_one_group(bot):
    leader, *held = await held_turns(bot, 4)
    before = await replies_this_month(bot)
    with inserts(bot) as counted:
        assert await end_together(bot, leader, [replying(h) for h in held]) == [None] * 3
    assert counted == {"messages": 2, "message_outbox": 2}  # the leader's alone, then the group's
    for h in held:
        turn = await turn_of(bot, h)
        assert turn.state is TurnState.DONE and turn.decision is TurnDecision.REPLIED
        [reply] = await bot.replies(h.conversation.id)
        assert turn.reply_message_id == reply.id and reply.text == "Sí, enviamos a Monterrey."
        assert turn.trace["decision"] == "REPLIED"
    assert await replies_this_month(bot) == before + 4
    await bot.sent_count(4)
    async with bot.runtime.sessionmaker() as session:
        events = (
            await session.scalars(
                select(EventRecord)
                .where(EventRecord.organization_id == bot.inbox.org.id)
                .order_by(EventRecord.seq)
            )
        ).all()
    for h in held:  # each conversation's events in order: its message, then the conversation
        mine = [e.type for e in events if e.data.get("conversationId", e.data.get("id")) == h.conversation.id]
        created = mine.index("message.created")
        assert "conversation.updated" in mine[created:]


async def test_a_conversation_taken_over_drops_only_its_own_reply(bot):
    leader, *held = await held_turns(bot, 4)
    taken = held[1].conversation.id
    r = await bot.client.post(f"/conversations/{taken}/takeover", headers=bot.admin.headers)
    assert r.status_code == 200, r.text
    assert await end_together(bot, leader, [replying(h) for h in held]) == [None] * 3
    decisions = [(await turn_of(bot, h)).decision for h in held]
    assert decisions == [TurnDecision.REPLIED, TurnDecision.DROPPED, TurnDecision.REPLIED]
    assert await bot.replies(taken) == []
    assert (await bot.conversation(taken)).status is ConversationStatus.HUMAN_HANDLING
    await bot.sent_count(3)
    await bot.runtime.jobs.wait_idle()
    assert len(bot.sent()) == 3


async def test_a_turn_whose_lease_was_taken_over_leaves_nothing_and_the_others_land(bot):
    leader, *held = await held_turns(bot, 4)
    lost = held[1]
    async with bot.runtime.unit_of_work() as session:
        turn = await session.get_one(BotTurn, lost.turn.id)
        turn.lease_token = "another-worker"  # its lease ran out and another worker took it
    before = await replies_this_month(bot)
    assert await end_together(bot, leader, [replying(h) for h in held]) == [None] * 3
    turn = await turn_of(bot, lost)
    assert turn.state is TurnState.RUNNING and turn.lease_token == "another-worker"
    assert turn.decision is None and turn.trace == {}
    assert await bot.replies(lost.conversation.id) == []
    for h in (held[0], held[2]):
        assert (await turn_of(bot, h)).decision is TurnDecision.REPLIED
        assert len(await bot.replies(h.conversation.id)) == 1
    assert await replies_this_month(bot) == before + 3  # the lost turn's usage is not counted


async def test_a_group_whose_transaction_fails_writes_each_turn_again_alone(bot):
    """One turn's write fails (its trace cannot be stored): the group's transaction rolls back, each
    turn is written again alone, and only that one fails (its job is retried), holding its lease."""
    leader, *held = await held_turns(bot, 4)
    endings = [replying(held[0]), replying(held[1], unstorable=object()), replying(held[2])]
    with inserts(bot) as counted:
        first, failed, last = await end_together(bot, leader, endings)
    assert first is None and last is None and failed is not None
    assert counted["messages"] == 1 + 1 + 3  # the leader's, the group's, then each turn's alone
    for h in (held[0], held[2]):
        assert (await turn_of(bot, h)).decision is TurnDecision.REPLIED
        assert len(await bot.replies(h.conversation.id)) == 1
    turn = await turn_of(bot, held[1])
    assert turn.state is TurnState.RUNNING and turn.lease_token == held[1].token
    assert await bot.replies(held[1].conversation.id) == []
    await bot.sent_count(3)


async def test_a_turn_finishing_alone_is_written_at_once_in_its_own_task(bot):
    [held] = await held_turns(bot, 1)
    with inserts(bot) as counted:
        await end(bot, replying(held))
        assert (await turn_of(bot, held)).decision is TurnDecision.REPLIED
    assert counted == {"messages": 1, "message_outbox": 1}
    assert endings_of(bot.runtime)._writer is None  # no writer task was started for it
