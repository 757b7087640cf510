"""Messages to one conversation leave in the order they were written.

Each outbox row has a delivery job of its own, and jobs run concurrently: a bot's reply and the file
queued right after it, or an agent's two quick messages, would otherwise reach Meta in whichever
order their jobs ran. A send therefore waits while an earlier message of its conversation is about
to go (queued and due within ``HORIZON``) or on its way (claimed, its lease running). It does not
wait for one backing off for longer than that, nor for one whose outcome is unknown (its lease ran
out): order never holds a conversation's messages back for long.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, tuple_
from sqlalchemy.orm import aliased

from cxinbox.core.clock import utcnow
from cxinbox.models.inbox import Message
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.runtime import Runtime

#: an earlier message due within this long is waited for
HORIZON = timedelta(seconds=10)
#: how recent an earlier message of the conversation must be to be waited for
LOOKBACK = timedelta(minutes=15)
#: how long a send waiting for an earlier one is put off before it looks again
RECHECK_SECONDS = 0.25


async def waits_for_earlier(runtime: Runtime, message_id: str) -> bool:
    """Whether an earlier message of ``message_id``'s conversation must leave first."""
    now = utcnow()
    params = {"message_id": message_id, "now": now, "since": now - LOOKBACK, "horizon": now + HORIZON}
    async with runtime.read_session(current=True) as session:
        return (await session.execute(_EARLIER, params)).first() is not None


def _earlier() -> Any:
    """The statement of ``waits_for_earlier``, built once (building it cost more than running it)."""
    mine = aliased(Message)
    at = Message.ordered_at.type
    return (
        select(OutboxEntry.id)
        .join(Message, Message.id == OutboxEntry.message_id)
        .join(mine, mine.id == bindparam("message_id"))
        .where(
            Message.conversation_id == mine.conversation_id,
            Message.ordered_at >= bindparam("since", type_=at),
            tuple_(Message.ordered_at, Message.id) < tuple_(mine.ordered_at, mine.id),
            or_(
                and_(
                    OutboxEntry.state == OutboxState.QUEUED,
                    OutboxEntry.next_attempt_at <= bindparam("horizon", type_=at),
                ),
                and_(
                    OutboxEntry.state == OutboxState.SENDING,
                    OutboxEntry.locked_until > bindparam("now", type_=at),
                ),
            ),
        )
        .limit(1)
    )


_EARLIER = _earlier()
