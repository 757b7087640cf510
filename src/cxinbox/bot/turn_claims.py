"""Claiming a customer turn so it is answered once (see ``models.bot_turns``).

A turn is the conversation's latest customer message. ``claim`` inserts its row (or takes over a
row whose lease has expired: its worker died) with a new lease token; ``finish`` marks it DONE only
while the token is still the caller's, in the transaction that queues the reply (which rolls back
when it is not), so a worker whose lease was taken over sends nothing. A live lease held by another
worker is waited out (``RetryAfter``): when the job runs again the turn is DONE, or its lease
expired and it is retaken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ScalarSelect, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cxinbox.core.clock import utcnow
from cxinbox.core.db import insert_new_rows
from cxinbox.core.ids import new_id
from cxinbox.core.jobs import RetryAfter
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.inbox import Conversation, Message, SenderType

#: how long a turn may think (its provider calls and tools): it is cut then (``turn``)
THINKING = timedelta(seconds=180)
#: how long a claimed turn is its worker's: its thinking, and a margin for the reads after the claim
#: and the wait for the phase that finishes it
LEASE = THINKING + timedelta(seconds=60)


async def latest_customer_message(session: AsyncSession, conversation: Conversation) -> Message | None:
    """The message a turn of ``conversation`` answers (a turn reads it with the rest of what it
    reads first: ``setup.turn_setup_of``)."""
    return await session.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.id == conversation.id, Message.id == latest_customer_message_id())
    )


def latest_customer_message_id() -> ScalarSelect[Any]:
    """The id of the latest customer message of the conversation the enclosing statement reads."""
    latest = aliased(Message)
    return (
        select(latest.id)
        .where(
            latest.organization_id == Conversation.organization_id,
            latest.conversation_id == Conversation.id,
            latest.sender_type == SenderType.CUSTOMER,
        )
        .order_by(latest.ordered_at.desc(), latest.id.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )


async def claim(
    session: AsyncSession, conversation: Conversation, message: Message, bot_config_id: str
) -> tuple[BotTurn, str] | None:
    """The turn answering ``message`` and the caller's lease token, or None when it is answered."""
    [claimed] = await claim_all(session, [Wanted(conversation, message, bot_config_id)])
    if isinstance(claimed, RetryAfter):
        raise claimed
    return claimed


@dataclass(frozen=True)
class Wanted:
    """A turn to claim: the conversation's, answering ``message``, by ``bot_config_id``."""

    conversation: Conversation
    message: Message
    bot_config_id: str


Claimed = tuple[BotTurn, str] | RetryAfter | None


async def claim_all(session: AsyncSession, wanted: list[Wanted]) -> list[Claimed]:
    """Claim each of ``wanted`` (``claim``), in order: a new turn is inserted with the others, in
    one statement (in the order of their conversations, as two workers' groups then never wait on
    each other's rows in opposite orders); a turn that exists already is read and, when its lease
    has expired, taken over, each on its own. Each answers its turn and the caller's lease token,
    None when it is answered, or a ``RetryAfter`` when its live lease is another worker's."""
    now = utcnow()
    rows = [
        {
            "organization_id": w.conversation.organization_id,
            "conversation_id": w.conversation.id,
            "message_id": w.message.id,
            "bot_config_id": w.bot_config_id,
            "state": TurnState.RUNNING,
            "failures": 0,
            "trace": {},
            "created_at": now,
            "updated_at": now,
            "lease_token": new_id(),
            "lease_until": now + LEASE,
        }
        for w in sorted(wanted, key=lambda w: w.conversation.id)
    ]
    inserted = {(t.conversation_id, t.message_id): t for t in await insert_new_rows(session, BotTurn, rows)}
    claimed: list[Claimed] = []
    for w in wanted:
        turn = inserted.pop((w.conversation.id, w.message.id), None)  # the first of a pair takes it
        if turn is None:
            claimed.append(await _take_over(session, w, now))
        else:
            assert turn.lease_token is not None  # the one its row was inserted with
            claimed.append((turn, turn.lease_token))
    return claimed


async def _take_over(session: AsyncSession, wanted: Wanted, now: datetime) -> Claimed:
    """The existing turn of ``wanted``, taken over when its lease has expired (its worker died)."""
    turn = await session.scalar(
        select(BotTurn)
        .where(BotTurn.conversation_id == wanted.conversation.id, BotTurn.message_id == wanted.message.id)
        .execution_options(populate_existing=True)
    )
    if turn is None or turn.state is TurnState.DONE:
        return None
    if turn.lease_until is not None and turn.lease_until > now:
        return RetryAfter((turn.lease_until - now).total_seconds() + 1, "the turn is another worker's")
    token = new_id()
    taken = await session.scalar(
        update(BotTurn)
        .where(
            BotTurn.id == turn.id, BotTurn.lease_token == turn.lease_token, BotTurn.state == TurnState.RUNNING
        )
        .values(
            lease_token=token,
            lease_until=now + LEASE,
            bot_config_id=wanted.bot_config_id,
            updated_at=now,
        )
        .returning(BotTurn)
        .execution_options(populate_existing=True)
    )
    return (taken, token) if taken is not None else None


async def finish(
    session: AsyncSession,
    turn: BotTurn,
    token: str,
    *,
    decision: TurnDecision,
    handoff_reason: str | None,
    reply_message_id: str | None,
    trace: dict[str, Any],
    failures: int | None = None,
) -> bool:
    """Mark the turn DONE with what it did (its decision and trace), if the caller still holds it:
    one UPDATE, built once (building it cost more than running it)."""
    values = {
        "turn_id": turn.id,
        "token": token,
        "new_decision": decision,
        "new_handoff_reason": handoff_reason,
        "new_reply_message_id": reply_message_id,
        "new_trace": trace,
        "new_failures": turn.failures if failures is None else failures,
        "now": utcnow(),
    }
    result = await session.execute(_FINISH, values)
    return result.rowcount == 1  # type: ignore[attr-defined]


def _finish() -> Any:
    table = cast(Table, BotTurn.__table__)
    written = ("decision", "handoff_reason", "reply_message_id", "trace", "failures")
    return (
        update(table)
        .where(
            table.c.id == bindparam("turn_id"),
            table.c.lease_token == bindparam("token"),
            table.c.state == TurnState.RUNNING,
        )
        .values(
            {name: bindparam(f"new_{name}", type_=table.c[name].type) for name in written}
            | {"state": TurnState.DONE, "lease_until": None}
            | {"updated_at": bindparam("now", type_=table.c.updated_at.type)}
        )
    )


_FINISH = _finish()


async def release(session: AsyncSession, turn: BotTurn, token: str, **values: Any) -> bool:
    """Give the turn up for a later attempt (its lease ends now)."""
    return await _update_held(session, turn, token, lease_until=utcnow(), **values)


async def _update_held(session: AsyncSession, turn: BotTurn, token: str, **values: Any) -> bool:
    result = await session.execute(
        update(BotTurn)
        .where(BotTurn.id == turn.id, BotTurn.lease_token == token, BotTurn.state == TurnState.RUNNING)
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
