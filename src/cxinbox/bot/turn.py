"""The bot's turn in a conversation: the job a customer's messages schedule (once per burst).

It runs on the ``llm`` queue: many turns wait on their models at once without holding a realtime
runner, and each enters the database in two short phases (``runtime.db_phases``: at most a few turns
of a process at once, so they never exhaust the connection pool).

1. A phase (one transaction): the conversation must still be BOT_HANDLING; the turn is claimed
   (``turn_claims``); what stops the bot before it thinks is handled there (no active config or the
   toggle off, maintenance, the plan's monthly replies used up: a handoff); what the turn needs is
   read (``Mind``: the transcript, intents, knowledge, the tools prepared): in that transaction on
   PostgreSQL, in a read session right after it on SQLite (``_reads_apart``). Committed. The turns
   of the process that start at the same time share that phase's transaction (``begin``, a group
   commit: their setups one read, their claims one INSERT, each turn its own lease). The job was
   kicked straight after the drain's commit (``takes_its_run``: no transaction between the commit
   and the queue); that phase deletes the stored run the drain kept for a crash before the kick.
2. Outside the database, no connection held: the turn thinks (``thinking.think``: intents, the LLM,
   tools) or posts to its n8n workflow, cut after ``turn_claims.THINKING`` (the lease outlasts it).
3. A phase: the turn is finished only if the caller still holds it, and the reply is queued only
   if the conversation is still BOT_HANDLING (a compare-and-set in the transaction that queues it),
   else it is dropped; a handoff goes through the status machine. The trace is written (and
   exported to Langfuse after the commit when that is configured: ``langfuse``). The turns of the
   process that finish at the same time share that phase's transaction (``turn_endings``: a group
   commit; a turn finishing alone writes at once, in its own session).
   A MEDIA intent's files are queued after the reply in that same transaction, so they go out
   exactly once with it; their upload to Meta runs before it, outside any transaction
   (``media_sending.upload_bot_media``), and a file Meta did not take then goes out without an id
   (delivery uploads it with its retries).

A provider failure that may pass is retried (the provider's ``Retry-After`` honoured) up to
``LLM_ATTEMPTS`` times, then the conversation is handed off (``LLM_ERROR``); a refused key hands off
at once (``LLM_AUTH``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import ChatMessage, LlmAuthFailed, LlmError, LlmUnavailable
from cxinbox.bot import handoff, n8n_forward, turn_claims
from cxinbox.bot.errors import BotNotConfigured
from cxinbox.bot.group_commit import Lost, group_commit_of
from cxinbox.bot.mind import read_mind
from cxinbox.bot.setup import TurnSetup, turn_setups_of
from cxinbox.bot.thinking import Mind, Reason, Thought, think
from cxinbox.bot.transcript import transcript
from cxinbox.bot.turn_endings import Ending, Held, endings_of, write
from cxinbox.core.clock import utcnow
from cxinbox.core.db import rollback
from cxinbox.core.jobs import Queue, RetryAfter, forget_handed_over, job
from cxinbox.knowledge.media_sending import upload_bot_media
from cxinbox.models.bot import BotMode
from cxinbox.models.inbox import ConversationStatus
from cxinbox.plans.limits import MONTHLY_BOT_REPLIES, limit_for
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)

#: provider calls a turn tries before it hands off
LLM_ATTEMPTS = 3
#: turns started (their first phase) in one transaction at most (``group_commit``)
STARTS_MAX = 32


#: what a claimed turn does outside the database: think, or post to the n8n workflow
_Act = Callable[[], Awaitable[Thought]]


@job("bot.turn", queue=Queue.LLM, attempts=LLM_ATTEMPTS + 3, backoff_seconds=1.0, takes_its_run=True)
async def run_turn(runtime: Runtime, session: AsyncSession, conversation_id: str) -> None:
    begun = await begin(runtime, session, conversation_id)
    if begun is None:
        return
    held, act = begun
    outcome = act if isinstance(act, Thought | LlmError) else await _outside(act)
    if isinstance(outcome, Thought) and (ending := Ending(held, outcome)).groups:
        await endings_of(runtime).write(ending, session)  # with the process's turns finishing now
        return
    async with runtime.db_phases.phase(session):
        retry = await _end(session, runtime, held, outcome)
    if retry is not None:
        raise retry


async def begin(
    runtime: Runtime, session: AsyncSession, conversation_id: str
) -> tuple[Held, _Act | Thought | LlmError] | None:
    """The turn's first phase, with the process's turns starting now (``_begin_all``, then
    ``_read_apart``): the turn held and what it does next, None when there is nothing to do; raises
    ``RetryAfter`` when another worker holds it."""
    starts = group_commit_of(runtime, _begin_all, STARTS_MAX, _read_apart)
    begun = await starts.write(_Start(conversation_id), session)
    if begun is None:
        return None
    assert isinstance(begun, tuple)  # an exception is raised by ``write``
    held, act = begun
    assert act is not None  # read by ``_read_apart``
    return held, act


@dataclass(frozen=True, eq=False)
class _Start:
    """A turn job's first phase, to write (told apart by identity: a conversation's job may run
    twice at once, redelivered)."""

    conversation_id: str


#: what a turn's first phase answers: the turn held and what it does next (None: its reads, in a
#: read session: ``_reads_apart``), nothing to do (None) or what its job raises (a retry: another
#: worker holds the turn)
_Begun = tuple[Held, _Act | Thought | LlmError | None] | Exception | None


async def _begin_all(session: AsyncSession, runtime: Runtime, starts: list[_Start]) -> list[_Begun]:
    """The first phase of each of ``starts`` (``group_commit``: of the turns of the process that
    start together), in ``session``'s transaction: its turn claimed (``turn_claims.claim_all``: one
    INSERT for the group), what stops it handled (its conversation is handed off and the turn
    finished here), its n8n post prepared, and on PostgreSQL its reads done. Their conversations are
    written in the order of their ids, as every transaction writing several does. Last, the stored
    runs that handed these turns over (``entry.schedule_turns``) are deleted: those stored before the
    reads, whose messages the reads saw."""
    since = utcnow()
    conversation_ids = [start.conversation_id for start in starts]
    setups = await turn_setups_of(session, conversation_ids)
    reads = [(start, read) for start in starts if (read := _answerable(setups.get(start.conversation_id)))]
    claiming = [(start, read) for start, read in reads if read.setup.enabled]
    claims = await turn_claims.claim_all(session, [_wanted(read) for _, read in claiming])
    claimed = {id(start): claim for (start, _), claim in zip(claiming, claims, strict=True)}
    begun: dict[int, _Begun] = {}
    for start, read in sorted(reads, key=lambda pair: pair[1].conversation.id):
        if not read.setup.enabled:
            await handoff.hand_off(session, read.conversation, Reason.NO_BOT)
            continue
        claim = claimed[id(start)]
        if claim is None or isinstance(claim, RetryAfter):
            begun[id(start)] = claim
            continue
        assert read.message is not None  # ``_answerable``
        held = Held(read.conversation, read.message, *claim, read.setup, read.handoff_summary)
        stop = _stop_reason(read)
        if stop is not None:
            if await write(session, runtime, [Ending(held, Thought().hand_off(stop))]):
                log.info("bot_turn_lost", conversation_id=held.conversation.id, turn_id=held.turn.id)
                raise Lost([start])
            continue
        begun[id(start)] = held, await _act(session, runtime, held)
    await forget_handed_over(session, run_turn, conversation_ids, since)
    return [begun.get(id(start)) for start in starts]


async def _read_apart(runtime: Runtime, begun: list[_Begun]) -> list[_Begun]:
    """After a group's commit, the reads of its turns that read apart (``_reads_apart``), in one
    read session for them all; a read that fails fails only its turn's job."""
    reading = [i for i, b in enumerate(begun) if isinstance(b, tuple) and b[1] is None]
    if not reading:
        return begun
    begun = list(begun)
    async with runtime.db_phases.slot(), runtime.read_session(current=True) as reader:
        for i in reading:
            held, _ = cast(tuple[Held, None], begun[i])
            try:
                begun[i] = held, await _mind_of(reader, runtime, held)
            except Exception as failed:
                begun[i] = failed
                await rollback(reader)
    return begun


def _answerable(read: TurnSetup | None) -> TurnSetup | None:
    """``read`` when its conversation is the bot's and has a customer message to answer."""
    if read is None or read.conversation.status is not ConversationStatus.BOT_HANDLING:
        return None
    return read if read.message is not None else None


def _wanted(read: TurnSetup) -> turn_claims.Wanted:
    assert read.message is not None and read.setup.config is not None
    return turn_claims.Wanted(read.conversation, read.message, read.setup.config.id)


async def _act(session: AsyncSession, runtime: Runtime, held: Held) -> _Act | Thought | LlmError | None:
    """What a claimed turn does next: its n8n post, else its thinking (None: its reads come first,
    in a read session of their own: ``_reads_apart``)."""
    assert held.setup.config is not None
    if held.setup.config.mode is BotMode.N8N:
        return await _forwarding(session, runtime, held)
    return None if _reads_apart(session) else await _mind_of(session, runtime, held)


def _reads_apart(session: AsyncSession) -> bool:
    """Whether the turn's reads (``_mind_of``) run in a read session of their own after the first
    phase. On SQLite they do: the write transaction holds the process's write gate, and a read
    session reads a snapshot outside it. On PostgreSQL they run in the first phase's transaction: a
    read-only transaction of their own cost every turn a second connection from the pool (with its
    pre-ping), a BEGIN, a SET TRANSACTION READ ONLY and a COMMIT, for nothing it needs (the first
    phase locks nothing a webhook or another turn waits for)."""
    return session.get_bind().dialect.name == "sqlite"


async def _mind_of(reader: AsyncSession, runtime: Runtime, held: Held) -> _Act | Thought:
    """What the turn thinks about (a read session: on SQLite it does not hold the write turn)."""
    try:
        mind = await _mind(reader, runtime, held)
    except BotNotConfigured:
        return Thought().hand_off(Reason.LLM_AUTH)
    return partial(think, runtime, mind)


async def _outside(act: _Act) -> Thought | LlmError:
    """The turn's thinking, holding no session, cut at ``turn_claims.THINKING`` so that the lease
    outlasts it; running out of time counts as a provider failure."""
    try:
        async with asyncio.timeout(turn_claims.THINKING.total_seconds()):
            return await act()
    except LlmError as exc:
        return exc
    except TimeoutError:
        return LlmUnavailable("the turn's time to think ran out")


async def _end(
    session: AsyncSession, runtime: Runtime, held: Held, outcome: Thought | LlmError
) -> RetryAfter | None:
    """The last phase: apply what the turn decided; a retry to raise once the phase is over."""
    if isinstance(outcome, LlmError):
        return await _failed(session, runtime, held, outcome)
    if outcome.reply and outcome.media_ids:
        await upload_bot_media(session, runtime, held.conversation, outcome.media_ids)
    await _finish(session, runtime, held, outcome)
    return None


async def _forwarding(session: AsyncSession, runtime: Runtime, held: Held) -> _Act | LlmError:
    assert held.setup.config is not None
    try:
        delivery = await n8n_forward.prepare(
            session, runtime, held.conversation, held.message, held.setup.config
        )
    except n8n_forward.N8nFailed as exc:
        return exc
    return partial(_forward, runtime, delivery)


async def _forward(runtime: Runtime, delivery: n8n_forward.Delivery) -> Thought:
    status = await n8n_forward.post(runtime, delivery)
    return Thought(forwarded=True, trace={"n8n": {"status": status, "bodyChars": len(delivery.body)}})


def _stop_reason(read: TurnSetup) -> str | None:
    if read.maintenance:
        return Reason.MAINTENANCE
    limit = limit_for(read.organization, MONTHLY_BOT_REPLIES)
    if limit is not None and read.replies_this_month >= limit:
        return Reason.PLAN_LIMIT
    return None


async def _mind(session: AsyncSession, runtime: Runtime, held: Held) -> Mind:
    setup, conversation, message = held.setup, held.conversation, held.message
    assert setup.config is not None
    return await read_mind(
        session,
        runtime,
        setup.config,
        setup.settings,
        [ChatMessage("user", await transcript(session, conversation))],
        message.text or (message.media or {}).get("caption") or "",
        conversation=conversation,
        handoff_summary=held.handoff_summary,
    )


async def _failed(session: AsyncSession, runtime: Runtime, held: Held, error: LlmError) -> RetryAfter | None:
    failures = held.turn.failures + 1
    trace = {
        "errors": [*(held.turn.trace or {}).get("errors", []), {"reason": error.reason, "error": str(error)}]
    }
    if error.retryable and failures < LLM_ATTEMPTS:
        if await turn_claims.release(session, held.turn, held.token, failures=failures, trace=trace):
            delay = error.retry_after or 2 ** (failures - 1)
            return RetryAfter(delay, f"the LLM provider failed: {error.reason}")
        return None
    if isinstance(error, n8n_forward.N8nFailed):
        reason = Reason.N8N_ERROR
    else:
        reason = Reason.LLM_AUTH if isinstance(error, LlmAuthFailed) else Reason.LLM_ERROR
    await _finish(session, runtime, held, Thought(trace=trace).hand_off(reason), failures=failures)
    return None


async def _finish(
    session: AsyncSession, runtime: Runtime, held: Held, thought: Thought, failures: int | None = None
) -> None:
    """Apply what the turn decided, then mark it DONE with its decision and trace, in the phase's
    transaction (``turn_endings.write``, alone): if the turn is no longer the caller's (its lease was
    taken over), the transaction is rolled back, so a worker that lost it applies nothing."""
    if await write(session, runtime, [Ending(held, thought, failures)]):
        await rollback(session)
        log.info("bot_turn_lost", conversation_id=held.conversation.id, turn_id=held.turn.id)
