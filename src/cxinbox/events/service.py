"""Replay and live delivery for one listener."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select

from cxinbox.core.events import Event
from cxinbox.events.visibility import EventPredicate
from cxinbox.models.events import EventRecord
from cxinbox.runtime import Runtime

REPLAY_BATCH = 500


async def replay(runtime: Runtime, organization_id: str, after: int) -> AsyncIterator[dict[str, Any]]:
    """Stored events after ``after`` in order, read in short transactions (never held while sending)."""
    while True:
        async with runtime.sessionmaker() as session:
            rows = (
                await session.scalars(
                    select(EventRecord)
                    .where(EventRecord.organization_id == organization_id, EventRecord.seq > after)
                    .order_by(EventRecord.seq)
                    .limit(REPLAY_BATCH)
                )
            ).all()
        for row in rows:
            yield Event(
                row.organization_id, row.type, row.data, row.audience, row.occurred_at, row.seq
            ).wire()
        if len(rows) < REPLAY_BATCH:
            return
        after = rows[-1].seq


def to_sse(message: dict[str, Any]) -> dict[str, Any]:
    payload = {"type": message["type"], "data": message["data"], "occurredAt": message["occurredAt"]}
    return {
        "id": str(message["id"]),
        "event": message["type"],
        "data": json.dumps(payload, separators=(",", ":")),
    }


async def stream(
    runtime: Runtime, organization_id: str, last_event_id: int | None, visible: EventPredicate
) -> AsyncIterator[dict[str, Any]]:
    """Subscribe first, then replay, then go live, skipping what replay already sent: no gap, no
    duplicate. A listener that falls too far behind is closed; it reconnects and replays."""
    async with runtime.bus.subscribe(organization_id) as sub:
        last = last_event_id
        if last is not None:
            async for message in replay(runtime, organization_id, last):
                last = message["id"]
                if visible(message):
                    yield to_sse(message)
        while not sub.lagged.is_set():
            getter = asyncio.ensure_future(sub.queue.get())
            lagged = asyncio.ensure_future(sub.lagged.wait())
            done, _ = await asyncio.wait({getter, lagged}, return_when=asyncio.FIRST_COMPLETED)
            lagged.cancel()
            if getter not in done:
                getter.cancel()
                return
            message = getter.result()
            if last is not None and message["id"] <= last:
                continue
            last = message["id"]
            if visible(message):
                yield to_sse(message)
