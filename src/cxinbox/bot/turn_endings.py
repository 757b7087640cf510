"""A turn's last phase (``turn``): what it decided applied and the turn marked DONE, in one
transaction, together with the turns of the process that finish at the same time.

Under a burst hundreds of turns of a process finish within moments of each other (their models
answer together). Their endings go through a group commit (``group_commit``): the turns that finish
while a group is written are written together in the next one, in one transaction (``write``): each
reply's compare-and-set on its conversation is an UPDATE of its own, and so is each turn's finish
(its lease check), but the messages, their outbox rows, the reload of their conversations and the
events are one statement each, and the usage one upsert per organization (``usage.record_all``).

What fails for one turn touches no other:
- a conversation that is no longer the bot's (an agent took over) drops that turn's reply
  (DROPPED), as its own compare-and-set found;
- a turn whose lease was taken over (its finish changed no row: another worker answers it) must
  leave nothing, so the group's transaction is rolled back and the group written again without it;
- when the group's transaction fails, each of its turns is written again alone: a turn whose own
  write fails then fails its job alone (retried by the job queue, as a turn written alone was).

Only the turns whose ending touches nothing but their reply go through the group (a reply, an n8n
forward, no answer); a handoff (the status machine, routing) or a reply with media (uploaded first)
is written alone, in the turn's own phase, by the same ``write``.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.bot import handoff, langfuse, turn_claims, usage
from cxinbox.bot.group_commit import GroupCommit, Lost, group_commit_of
from cxinbox.bot.setup import BotSetup
from cxinbox.bot.thinking import Thought
from cxinbox.core.errors import Conflict
from cxinbox.knowledge.media_sending import send_bot_media
from cxinbox.models.bot_turns import BotTurn, TurnDecision
from cxinbox.models.inbox import Conversation, ConversationStatus, Message, SenderType
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound import compose

log = structlog.get_logger(__name__)

#: turns written in one transaction at most. Under a burst on SQLite the groups are full (the turns
#: wait for the process's write gate), and the size trades the burst's CPU against the webhooks'
#: acknowledgements, which wait for the group holding the gate. In ``bench.bot_turns`` (500 at once,
#: a loaded machine) 16 gave 22 ms of CPU and 19 statements per message answered, 32 gave 20 ms and
#: 17, 64 gave 16 ms and 15, with the acknowledgement p99 (1.1x, 1.2x, 1.5-1.9x the bot-off one)
#: too noisy there to decide on (the code before groups gave 1.0-1.7x). With the turns' starts
#: grouped too (``turn.begin``), on SQLite: 16 gave 11 ms, 9.3 statements and 0.6 transactions, 32
#: gave 10 ms, 8.9 and 0.5, 64 gave 10 ms, 9.0 and 0.4 with an acknowledgement p99 of 1.00x, 0.98x
#: and 1.26x: nothing to gain past 32. On PostgreSQL the groups are rarely full.
GROUP_MAX = 32


@dataclass(frozen=True)
class Held:
    """A turn this worker has claimed: what it answers, and its lease."""

    conversation: Conversation
    message: Message
    turn: BotTurn
    token: str
    setup: BotSetup
    #: what the agent who returned the conversation to the bot wrote for it
    handoff_summary: str | None


@dataclass(frozen=True, eq=False)
class Ending:
    """What a held turn decided, to write; ``failures``: its provider failures, when they changed."""

    held: Held
    thought: Thought
    failures: int | None = None

    @property
    def groups(self) -> bool:
        """Whether it is written in a group: it touches nothing but its own reply."""
        return self.thought.handoff_reason is None and not self.thought.media_ids


async def write(session: AsyncSession, runtime: Runtime, endings: list[Ending]) -> list[Ending]:
    """Apply each of ``endings`` and mark its turn DONE in ``session``'s transaction. Answers those
    whose turn was no longer the caller's (its lease was taken over): when there are any, the
    transaction must be rolled back (it holds their writes too). Their conversations are written in
    the order of their ids, as every UPDATE of several conversations locks them, so that two such
    transactions never deadlock."""
    endings = sorted(endings, key=lambda ending: ending.held.conversation.id)
    decided = [await _decide(session, ending) for ending in endings]
    replying = [i for i, decision in enumerate(decided) if decision is None]
    answers = await compose.queue_messages(
        session, runtime, [_reply(endings[i].held.conversation, endings[i].thought) for i in replying]
    )
    for i, answer in zip(replying, answers, strict=True):
        decided[i] = await _replied(session, runtime, endings[i], answer)
    lost = []
    for ending, decision in zip(endings, decided, strict=True):
        assert decision is not None
        if not await _finish(session, ending, *decision):
            lost.append(ending)
    if lost:
        return lost
    for ending in endings:
        langfuse.queue_export(session, runtime, ending.held.turn.id)
    used = [
        (e.held.conversation.organization_id, e.thought.usage, int(d[0] is TurnDecision.REPLIED))
        for e, d in zip(endings, decided, strict=True)
        if d is not None
    ]
    await usage.record_all(session, used)
    return []


_Decision = tuple[TurnDecision, str | None]


async def _decide(session: AsyncSession, ending: Ending) -> _Decision | None:
    """What the turn did, unless it replies (None: its reply is queued with the group's)."""
    thought, held = ending.thought, ending.held
    if thought.handoff_reason is not None:
        done = await handoff.hand_off(
            session,
            held.conversation,
            thought.handoff_reason,
            team_id=thought.handoff_team_id,
            classify=held.setup.settings.auto_categorize,
        )
        return (TurnDecision.HANDOFF if done else TurnDecision.DROPPED), None
    if thought.forwarded:
        return TurnDecision.FORWARDED, None
    if not thought.reply:
        return TurnDecision.FAILED, None
    return None


def _reply(conversation: Conversation, thought: Thought) -> compose.Queued:
    assert thought.reply is not None
    return compose.Queued(
        conversation,
        compose.text_message(thought.reply),
        compose.Sender(SenderType.BOT),
        while_status=ConversationStatus.BOT_HANDLING,  # the bot never talks over a human
    )


async def _replied(
    session: AsyncSession, runtime: Runtime, ending: Ending, answer: Message | Conflict
) -> _Decision:
    thought = ending.thought
    if isinstance(answer, compose.StatusChanged):
        return TurnDecision.DROPPED, None
    if isinstance(answer, Conflict):
        _note(thought, f"not sent: {answer.code}")
        return TurnDecision.FAILED, None
    if thought.media_ids:
        await _send_media(session, runtime, ending.held.conversation, thought)
    return TurnDecision.REPLIED, answer.id


async def _finish(
    session: AsyncSession, ending: Ending, decision: TurnDecision, reply_id: str | None
) -> bool:
    thought, held = ending.thought, ending.held
    return await turn_claims.finish(
        session,
        held.turn,
        held.token,
        decision=decision,
        handoff_reason=thought.handoff_reason if decision is TurnDecision.HANDOFF else None,
        reply_message_id=reply_id,
        trace={**thought.trace, "decision": decision.value, "latencyMs": thought.latency_ms},
        failures=ending.failures,
    )


async def _send_media(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, thought: Thought
) -> None:
    """Queue the intent's media after the reply (uploaded before the transaction: see ``turn``);
    the trace lists what was sent, and each id that is not the organization's media (deleted, or
    never theirs) is named as not sent."""
    try:
        sent = await send_bot_media(session, runtime, conversation, thought.media_ids, upload=False)
        why = "deleted, or not the organization's"
    except Conflict as refused:
        sent, why = {}, refused.code
    missing = [i for i in thought.media_ids if i not in sent]
    thought.trace["media"] = {
        "sent": [{"mediaId": media_id, "messageId": message.id} for media_id, message in sent.items()],
        "notSent": missing,
    }
    if missing:
        _note(thought, f"media not sent ({why}): {', '.join(missing)}")


def _note(thought: Thought, note: str) -> None:
    """Add ``note`` to the trace, once (a group written again notes it again)."""
    notes = thought.trace.get("notes", [])
    if note not in notes:
        thought.trace["notes"] = [*notes, note]


async def _write_group(session: AsyncSession, runtime: Runtime, endings: list[Ending]) -> list[None]:
    """``write`` for ``group_commit``: a turn whose lease was taken over rolls the group back."""
    lost = await write(session, runtime, endings)
    for ending in lost:
        held = ending.held
        log.info("bot_turn_lost", conversation_id=held.conversation.id, turn_id=held.turn.id)
    if lost:
        raise Lost(list(lost))
    return [None] * len(endings)


def endings_of(runtime: Runtime) -> GroupCommit[Ending, None]:
    """The runtime's group commit of turns' endings (``GroupCommit.write`` writes one)."""
    return group_commit_of(runtime, _write_group, GROUP_MAX)
