"""Messages to one conversation leave in the order they were written.

Each outbox row has a delivery job of its own, and jobs run concurrently: a bot's reply and the file
queued right after it, or an agent's two quick messages, would otherwise reach Meta in whichever
order their jobs ran. A send therefore waits while an earlier message of its conversation is about
to go (queued and due within ``HORIZON``) or on its way (claimed, its lease running). It does not
wait for one backing off for longer than that, nor for one whose outcome is unknown (its lease ran
out): order never holds a conversation's messages back for long.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, tuple_
from sqlalchemy.orm import aliased

from cxinbox.models.inbox import Message
from cxinbox.models.outbound import OutboxEntry, OutboxState

#: an earlier message due within this long is waited for
HORIZON = timedelta(seconds=10)
#: how recent an earlier message of the conversation must be to be waited for
LOOKBACK = timedelta(minutes=15)
#: how long a send waiting for an earlier one is put off before it looks again
RECHECK_SECONDS = 0.25


def earlier_waiting() -> Any:
    """Whether an earlier message of the conversation of ``Message`` (the outer statement's row: the
    send being read) must leave first; binds ``now``, ``since`` (``now - LOOKBACK``) and ``horizon``
    (``now + HORIZON``, ``params``). Folded into the read of the send, so the check costs no
    statement of its own."""
    entry, earlier = aliased(OutboxEntry), aliased(Message)
    at = Message.ordered_at.type
    return (
        select(entry.id)
        .join(earlier, earlier.id == entry.message_id)
        .where(
            earlier.conversation_id == Message.conversation_id,
            earlier.ordered_at >= bindparam("since", type_=at),
            tuple_(earlier.ordered_at, earlier.id) < tuple_(Message.ordered_at, Message.id),
            or_(
                and_(
                    entry.state == OutboxState.QUEUED,
                    entry.next_attempt_at <= bindparam("horizon", type_=at),
                ),
                and_(entry.state == OutboxState.SENDING, entry.locked_until > bindparam("now", type_=at)),
            ),
        )
        .exists()
    )


def params(now: datetime) -> dict[str, datetime]:
    return {"now": now, "since": now - LOOKBACK, "horizon": now + HORIZON}
