"""Turns that start together share their first phase (``bot.turn.begin``, through ``bot.group_commit``):
one transaction, one read of their setups and one INSERT of their claims, and what holds for one
turn alone holds for each of them (a conversation an agent took over, a turn another worker holds,
an expired lease taken over, a write that fails)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from cxinbox.bot import turn
from cxinbox.bot.thinking import Thought
from cxinbox.bot.turn_endings import Ending, endings_of
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import RetryAfter
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.inbox import ConversationStatus
from tests.fixtures.statements import hearing_statements
from tests.fixtures.whatsapp import unique_number

#: set while a test measures what its own tasks do
measured = contextvars.ContextVar("measured", default=False)


async def waiting_conversations(bot, count: int) -> list[str]:
    """``count`` customers' conversations whose turns are due in 30 s (none has started)."""
    await bot.configure(debounceSeconds=30)
    return [await bot.writes("¿envían a Monterrey?", wa_id=unique_number()) for _ in range(count)]


async def begin(bot, conversation_id: str) -> Any:
    """The turn's first phase as its job runs it, with the job's session."""
    async with bot.runtime.sessionmaker() as session:
        return await turn.begin(bot.runtime, session, conversation_id)


async def begin_together(bot, leader: str, conversation_ids: list[str]) -> list[Any]:
    """The first phases of ``conversation_ids``, started while ``leader``'s, which came first, is
    being written (alone): they wait for it, then are written in one group. What each answered or
    raised."""
    everyone = [leader, *conversation_ids]
    results = await asyncio.gather(*(begin(bot, c) for c in everyone), return_exceptions=True)
    assert not isinstance(results[0], BaseException)
    return results[1:]


@contextmanager
def statements(bot, start: str) -> Iterator[list[tuple[str, Any]]]:
    """The statements starting with ``start`` the engine runs meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith(start):
            seen.append((statement, parameters))

    with hearing_statements(bot.runtime, note):
        yield seen


async def turns_of(bot, conversation_id: str) -> list[BotTurn]:
    async with bot.runtime.sessionmaker() as session:
        return list(await session.scalars(select(BotTurn).where(BotTurn.conversation_id == conversation_id)))


async def leave_a_turn(bot, conversation_id: str, *, lease_for: timedelta) -> None:
    """A turn of ``conversation_id`` claimed by another worker, its lease ending in ``lease_for``."""
    async with bot.runtime.unit_of_work() as session:
        claimed = await turn.begin(bot.runtime, session, conversation_id)
        assert claimed is not None
        held, _ = claimed
        stored = await session.get_one(BotTurn, held.turn.id)
        stored.lease_token, stored.lease_until = "another-worker", utcnow() + lease_for


async def test_turns_starting_together_are_claimed_in_one_group_and_answered(bot):
    leader, *others = await waiting_conversations(bot, 4)
    with statements(bot, "INSERT INTO bot_turns ") as inserts:
        begun = await begin_together(bot, leader, others)
    assert len(inserts) == 2  # the leader's alone, then the group's
    assert all(b is not None and not isinstance(b, BaseException) for b in begun)
    for conversation_id, (held, _) in zip(others, begun, strict=True):
        [stored] = await turns_of(bot, conversation_id)
        assert stored.id == held.turn.id and stored.state is TurnState.RUNNING
        assert stored.lease_token == held.token and stored.lease_until > utcnow()
    assert len({held.token for held, _ in begun}) == 3  # a lease of each turn's own
    for held, _ in begun:  # each held turn ends as a turn begun alone does
        async with bot.runtime.sessionmaker() as session:
            await endings_of(bot.runtime).write(Ending(held, Thought(reply="Sí.")), session)
    for conversation_id in others:
        [stored] = await turns_of(bot, conversation_id)
        assert stored.decision is TurnDecision.REPLIED
        assert [r.text for r in await bot.replies(conversation_id)] == ["Sí."]


async def test_a_group_reads_what_its_turns_think_about_together(bot):
    """On SQLite a turn's reads run apart from its claim, in a read session: a group's in one."""
    if bot.runtime.engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL the reads run in the group's transaction")
    assert bot.runtime.current_read_engine is not bot.runtime.engine  # a pool of its own
    leader, *others = await waiting_conversations(bot, 4)
    checkouts = []
    pool = bot.runtime.current_read_engine.sync_engine.pool
    # only the turns' checkouts (and their group writer's, a task they start): the runtime's
    # periodic tasks read from the same pool meanwhile
    listener = lambda *_: measured.get() and checkouts.append(1)  # noqa: E731
    event.listen(pool, "checkout", listener)
    token = measured.set(True)
    try:
        begun = await begin_together(bot, leader, others)
    finally:
        measured.reset(token)
        event.remove(pool, "checkout", listener)
    assert len(checkouts) == 2  # the leader's alone, then the group's
    assert all(callable(act) for _, act in begun)  # each thinks next


async def test_a_conversation_taken_over_starts_no_turn_and_the_others_do(bot):
    leader, *others = await waiting_conversations(bot, 4)
    taken = others[1]
    r = await bot.client.post(f"/conversations/{taken}/takeover", headers=bot.admin.headers)
    assert r.status_code == 200, r.text
    first, none, last = await begin_together(bot, leader, others)
    assert none is None and first is not None and last is not None
    assert await turns_of(bot, taken) == []
    assert (await bot.conversation(taken)).status is ConversationStatus.HUMAN_HANDLING
    assert [len(await turns_of(bot, c)) for c in (others[0], others[2])] == [1, 1]


async def test_leases_hold_per_turn_in_a_group(bot):
    """A turn another worker holds is waited out (its job alone retries); one whose worker's lease
    expired is taken over with a new lease; the others are claimed."""
    leader, held_elsewhere, expired, fresh = await waiting_conversations(bot, 4)
    await leave_a_turn(bot, held_elsewhere, lease_for=timedelta(seconds=60))
    await leave_a_turn(bot, expired, lease_for=-timedelta(seconds=1))
    retry, taken, claimed = await begin_together(bot, leader, [held_elsewhere, expired, fresh])
    assert isinstance(retry, RetryAfter)
    [stored] = await turns_of(bot, held_elsewhere)
    assert stored.lease_token == "another-worker"  # untouched
    held, _ = taken
    [stored] = await turns_of(bot, expired)
    assert stored.id == held.turn.id and stored.lease_token == held.token != "another-worker"
    assert stored.lease_until > utcnow()
    held, _ = claimed
    assert [t.id for t in await turns_of(bot, fresh)] == [held.turn.id]


async def test_a_group_whose_transaction_fails_starts_each_turn_again_alone(bot):
    """One turn's claim fails (its takeover's UPDATE): the group's transaction rolls back, each
    turn starts again alone, and only that one fails (its job is retried)."""
    leader, first, failing, last = await waiting_conversations(bot, 4)
    await leave_a_turn(bot, failing, lease_for=-timedelta(seconds=1))
    [doomed] = await turns_of(bot, failing)

    def fail(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("UPDATE bot_turns ") and doomed.id in str(parameters):
            raise RuntimeError("the disk is full")

    engine = bot.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", fail)
    try:
        with statements(bot, "INSERT INTO bot_turns ") as inserts:
            begun, failed, ended = await begin_together(bot, leader, [first, failing, last])
    finally:
        event.remove(engine, "before_cursor_execute", fail)
    assert len(inserts) == 1 + 1 + 3  # the leader's, the group's, then each turn's alone
    assert isinstance(failed, Exception) and "the disk is full" in str(failed)
    [stored] = await turns_of(bot, failing)
    assert stored.lease_token == "another-worker"  # its takeover rolled back
    for conversation_id, result in ((first, begun), (last, ended)):
        held, _ = result
        assert [t.id for t in await turns_of(bot, conversation_id)] == [held.turn.id]


@pytest.mark.parametrize("stop", ["maintenance", "bot off"])
async def test_stopped_turns_in_a_group_hand_their_conversations_off(bot, stop):
    leader, *others = await waiting_conversations(bot, 3)
    if stop == "bot off":
        await bot.toggle("bot-enabled", False)
    else:
        body = {"maintenanceMode": True, "maintenanceMessage": "En mantenimiento"}
        r = await bot.client.put("/routing-rules/maintenance", json=body, headers=bot.admin.headers)
        assert r.status_code == 200, r.text
    assert await begin_together(bot, leader, others) == [None, None]
    for conversation_id in others:
        assert (await bot.conversation(conversation_id)).status is ConversationStatus.OPEN
        turns = await turns_of(bot, conversation_id)
        if stop == "bot off":  # no turn is claimed
            assert turns == []
        else:
            [stored] = turns
            assert stored.decision is TurnDecision.HANDOFF and stored.handoff_reason == "MAINTENANCE"
