"""Domain events: written to the durable log inside the transaction, fanned out after commit.

``publish_event(session, …)`` queues an event on the unit of work. Just before commit the queued
events get per-organization sequence numbers (allocated under a row lock, so ids increase in commit
order and a reconnecting client never misses one) and are stored; after commit they go to the bus.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.db import after_commit, before_commit, dialect_insert
from cxinbox.core.pubsub import EventBus
from cxinbox.core.wire import iso_utc
from cxinbox.models.event_log import EventRecord, EventSequence

EVENT_BUS_KEY = "event_bus"
_PENDING_KEY = "pending_events"


@dataclass
class Event:
    organization_id: str
    type: str
    data: dict[str, Any]
    audience: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)
    seq: int | None = None

    def wire(self) -> dict[str, Any]:
        """What the bus carries and the stream sends (``data:`` is ``{type, data, occurredAt}``)."""
        return {
            "id": self.seq,
            "type": self.type,
            "data": self.data,
            "audience": self.audience,
            "occurredAt": iso_utc(self.occurred_at),
        }


def publish_event(
    session: AsyncSession,
    organization_id: str,
    type: str,
    data: dict[str, Any],
    audience: dict[str, Any] | None = None,
) -> None:
    """Queue an event on ``session``'s transaction. ``data`` must be JSON-ready (a wire dump)."""
    pending: list[Event] | None = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = []
        before_commit(session, _store_pending)
    pending.append(Event(organization_id, type, data, audience or {}))


async def _store_pending(session: AsyncSession) -> None:
    events: list[Event] = session.info.pop(_PENDING_KEY, [])
    by_org: dict[str, list[Event]] = defaultdict(list)
    for ev in events:
        by_org[ev.organization_id].append(ev)
    rows: list[dict[str, Any]] = []
    for org_id in sorted(by_org):  # a fixed lock order across organizations
        batch = by_org[org_id]
        last = await _allocate(session, org_id, len(batch))
        for offset, ev in enumerate(batch):
            ev.seq = last - len(batch) + 1 + offset
            rows.append(
                {
                    "organization_id": org_id,
                    "seq": ev.seq,
                    "type": ev.type,
                    "data": ev.data,
                    "audience": ev.audience,
                    "occurred_at": ev.occurred_at,
                }
            )
    if rows:  # one multi-row INSERT, no ORM objects
        await session.execute(insert(cast(Table, EventRecord.__table__)), rows)
    bus: EventBus = session.info[EVENT_BUS_KEY]

    async def fan_out() -> None:
        await bus.publish_all([(ev.organization_id, ev.wire()) for ev in events])

    after_commit(session, fan_out)


async def _allocate(session: AsyncSession, organization_id: str, count: int) -> int:
    """Reserve ``count`` ids; the last one. One upsert that locks the counter row until commit."""
    upsert = dialect_insert(session)(EventSequence).values(organization_id=organization_id, last_id=count)
    result = await session.execute(
        upsert.on_conflict_do_update(
            index_elements=[EventSequence.organization_id],
            set_={"last_id": EventSequence.last_id + count},
        ).returning(EventSequence.last_id)
    )
    return int(result.scalar_one())
