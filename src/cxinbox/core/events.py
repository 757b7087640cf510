"""Domain events: written to the durable log inside the transaction, fanned out after commit.

``publish_event(session, …)`` queues an event on the unit of work. Just before commit the queued
events get per-organization sequence numbers (allocated under a row lock, so ids increase in commit
order and a reconnecting client never misses one) and are stored; after commit they go to the bus.
On PostgreSQL an organization's few events of a transaction are numbered and stored in one
statement (the allocation in a CTE); SQLite, whose statements cost no round trip, takes two.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.db import after_commit, before_commit
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
    postgresql = session.get_bind().dialect.name == "postgresql"
    rows: list[dict[str, Any]] = []
    for org_id in sorted(by_org):  # a fixed lock order across organizations
        batch = by_org[org_id]
        if postgresql and len(batch) <= _ONE_STATEMENT_MAX:
            await _allocate_and_store(session, org_id, batch)
            continue
        last = await session.execute(_ALLOCATE[postgresql], {"organization_id": org_id, "count": len(batch)})
        _number(batch, int(last.scalar_one()))
        rows.extend(_row(ev) for ev in batch)
    if rows:  # one multi-row INSERT, no ORM objects
        await session.execute(_INSERT, rows)
    bus: EventBus = session.info[EVENT_BUS_KEY]

    async def fan_out() -> None:
        await bus.publish_all([(ev.organization_id, ev.wire()) for ev in events])

    after_commit(session, fan_out)


def _number(batch: list[Event], last: int) -> None:
    """The batch's ids, up to ``last`` (the counter's value once they are reserved)."""
    for offset, ev in enumerate(batch):
        ev.seq = last - len(batch) + 1 + offset


def _row(ev: Event) -> dict[str, Any]:
    return {
        "organization_id": ev.organization_id,
        "seq": ev.seq,
        "type": ev.type,
        "data": ev.data,
        "audience": ev.audience,
        "occurred_at": ev.occurred_at,
    }


async def _allocate_and_store(session: AsyncSession, organization_id: str, batch: list[Event]) -> None:
    """PostgreSQL: reserve the batch's ids and store it in one statement (``_allocate_and_insert``)."""
    params: dict[str, Any] = {"organization_id": organization_id, "count": len(batch)}
    for offset, ev in enumerate(batch):
        params |= {f"{name}_{offset}": getattr(ev, name) for name in _FIELDS}
    stored = await session.execute(_allocate_and_insert(len(batch)), params)
    _number(batch, max(stored.scalars()))


_EVENTS = cast(Table, EventRecord.__table__)
_SEQUENCES = cast(Table, EventSequence.__table__)
#: an event's own columns (besides its organization and id)
_FIELDS = ("type", "data", "audience", "occurred_at")
#: events of one organization in a transaction stored by ``_allocate_and_store`` (more, rarely: two
#: statements, as on SQLite)
_ONE_STATEMENT_MAX = 8


def _allocation(dialect_insert: Any) -> Any:
    """Reserve ``:count`` ids of ``:organization_id``'s counter; the last one. The upsert locks the
    counter row until commit, so ids increase in commit order."""
    return (
        dialect_insert(_SEQUENCES)
        .values(organization_id=bindparam("organization_id"), last_id=bindparam("count"))
        .on_conflict_do_update(
            index_elements=[_SEQUENCES.c.organization_id],
            set_={"last_id": _SEQUENCES.c.last_id + bindparam("count")},
        )
        .returning(_SEQUENCES.c.last_id)
    )


#: the allocation, built once: by whether the database is PostgreSQL
_ALLOCATE = {False: _allocation(sqlite.insert), True: _allocation(postgresql.insert)}
_INSERT = insert(_EVENTS)


@functools.cache
def _allocate_and_insert(count: int) -> Any:
    """PostgreSQL's one statement for ``count`` events (built once per count, at most
    ``_ONE_STATEMENT_MAX``): the allocation in a CTE, the events inserted from it numbered up to
    its last id; their ids returned."""
    allocated = _ALLOCATE[True].cte("allocated")
    selects = [
        select(
            bindparam("organization_id", type_=_EVENTS.c.organization_id.type),
            allocated.c.last_id - (count - 1 - offset),
            *(bindparam(f"{name}_{offset}", type_=_EVENTS.c[name].type) for name in _FIELDS),
        )
        for offset in range(count)
    ]
    source = selects[0] if count == 1 else union_all(*selects)
    columns = ["organization_id", "seq", *_FIELDS]
    return insert(_EVENTS).from_select(columns, source).returning(_EVENTS.c.seq)
