"""Many turns at once while the model is slow: they wait on it together, on the ``llm`` queue's own
runners (not the realtime queue's, which keep processing webhooks), entering the database a few at
a time (``core.db_phases``); a turn that thinks past its time is cut before its lease could end."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.bot import turn_claims
from cxinbox.core.db_phases import DbPhases
from cxinbox.core.jobs import Queue, registered_job
from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.inbox import ConversationStatus
from tests.fakes.llm import Reply
from tests.fixtures.wait import eventually
from tests.fixtures.whatsapp import unique_number


class WatchedPhases(DbPhases):
    """The runtime's bound, counting the phases entered and the phases and slots (a read session's
    reads, a group of turns' endings) inside it at once."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.inside = self.peak = self.entered = 0

    @asynccontextmanager
    async def phase(self, session: AsyncSession) -> AsyncIterator[None]:
        async with super().phase(session), self._counted():
            self.entered += 1
            yield

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with super().slot(), self._counted():
            yield

    @asynccontextmanager
    async def _counted(self) -> AsyncIterator[None]:
        self.inside += 1
        self.peak = max(self.peak, self.inside)
        try:
            yield
        finally:
            self.inside -= 1


def test_the_turn_runs_on_the_llm_queue():
    assert registered_job("bot.turn").queue is Queue.LLM


async def test_more_turns_than_realtime_runners_wait_on_the_model_at_once(bot, monkeypatch):
    """Every realtime runner of the process could be taken by a waiting turn; the turns are on their
    own queue, so all of them wait on the model together and webhooks keep being processed (each
    customer's message below is processed while earlier turns wait), and their database phases
    never exceed the bound."""
    phases = WatchedPhases(2)
    monkeypatch.setattr(bot.runtime, "db_phases", phases)
    # the first turns wait on the model until every customer has written: on a loaded machine that
    # can outlast the default model timeout, and a turn timed out is retried (two more phases)
    monkeypatch.setattr(bot.runtime.settings, "llm_timeout_seconds", 300.0)
    count = Queue.REALTIME.concurrency + 10
    model_answers = threading.Event()
    await bot.configure(*[Reply("Sí, enviamos a Monterrey.", hold=model_answers)] * count)
    conversations = [await bot.writes("¿envían a Monterrey?", wa_id=unique_number()) for _ in range(count)]
    try:
        await eventually(lambda: bot.llm.waiting(bot.key) == count, f"{count} turns wait on the model")
    finally:
        model_answers.set()
    await bot.sent_count(count)
    for conversation_id in conversations:
        [turn] = await bot.finished_turns(conversation_id)
        assert turn.decision is TurnDecision.REPLIED
    assert len(bot.sent()) == count
    # each turn's first phase, and the endings written alone (those written together are a group's)
    assert count <= phases.entered <= 2 * count
    assert 1 <= phases.peak <= 2


async def test_a_turn_that_thinks_past_its_time_is_cut_and_retried_then_handed_off(bot, monkeypatch):
    """The model never answers within the turn's time to think: each attempt is cut (before the
    lease, which outlasts it, could be taken over) and counted as a provider failure, and after the
    last one the conversation goes to the humans."""
    assert turn_claims.LEASE > turn_claims.THINKING
    monkeypatch.setattr(turn_claims, "THINKING", turn_claims.THINKING / 720)  # 0.25 s
    never = threading.Event()
    await bot.configure(*[Reply("demasiado tarde", hold=never)] * 3)
    try:
        conversation_id = await bot.writes("hola")
        [turn] = await bot.finished_turns(conversation_id)
    finally:
        never.set()
    assert turn.decision is TurnDecision.HANDOFF
    assert turn.handoff_reason == "LLM_ERROR" and turn.failures == 3
    errors = turn.trace["errors"]
    assert [e["reason"] for e in errors] == ["LLM_UNAVAILABLE"] * 3
    assert all("time to think ran out" in e["error"] for e in errors)
    assert (await bot.conversation(conversation_id)).status is ConversationStatus.OPEN
    # each attempt asked the model, but one cut before its request reached the fake (0.25 s on a
    # loaded machine) is not recorded there: the three failures above are the attempts
    assert bot.sent() == [] and 1 <= len(bot.llm.requests_with(bot.key)) <= 3
