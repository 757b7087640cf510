"""Replay and live delivery for one listener."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from sqlalchemy import select
from sse_starlette import ServerSentEvent

from cxinbox.auth.credentials import principal_claims
from cxinbox.auth.principal import Principal
from cxinbox.auth.tokens import EVENTS
from cxinbox.core.clock import utcnow
from cxinbox.core.events import Event
from cxinbox.core.pubsub import Subscription
from cxinbox.core.wire import iso_utc
from cxinbox.models.event_log import EventRecord, EventSequence
from cxinbox.realtime.visibility import EventPredicate
from cxinbox.runtime import Runtime

REPLAY_BATCH = 500


def stream_token(runtime: Runtime, principal: Principal) -> tuple[str, int]:
    """A short-lived token that opens ``principal``'s stream (``GET /events?token=…``), for a browser's
    EventSource, which cannot send a header; and its lifetime in seconds."""
    principal.tenant  # noqa: B018 - a stream needs an organization
    ttl = runtime.settings.events_token_ttl_seconds
    return runtime.tokens.issue(principal_claims(principal), kind=EVENTS, ttl_seconds=ttl), ttl


#: The comment sent once the listener is subscribed: every event committed afterwards reaches it.
CONNECTED = {"comment": "connected"}
#: The last event of a stream closed because its listener fell too far behind (``reason``
#: ``lagged``): its id is the position the listener reached, so a reconnect with it as
#: ``Last-Event-ID`` (what EventSource does by itself) replays everything missed.
STREAM_RESET = "stream.reset"
#: ``stream.reset`` reasons: the listener fell behind; the listener's access changed (signed out,
#: deactivated, role or teams changed, organization blocked, key revoked): reconnect, or sign in
LAGGED, ACCESS_CHANGED = "lagged", "access_changed"


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


async def last_event_id(runtime: Runtime, organization_id: str) -> int:
    """The id of the organization's latest committed event (0 before the first)."""
    async with runtime.sessionmaker() as session:
        last = await session.scalar(
            select(EventSequence.last_id).where(EventSequence.organization_id == organization_id)
        )
    return int(last or 0)


def to_sse(message: dict[str, Any]) -> dict[str, Any]:
    payload = {"type": message["type"], "data": message["data"], "occurredAt": message["occurredAt"]}
    return {
        "id": str(message["id"]),
        "event": message["type"],
        "data": json.dumps(payload, separators=(",", ":")),
    }


#: how many events' encoded form are kept (those of the last moments, which every listener sends)
ENCODED_KEPT = 1024
_encoded: OrderedDict[tuple[str, int], bytes] = OrderedDict()


def encoded(organization_id: str, message: dict[str, Any]) -> bytes:
    """The event as its stream sends it, encoded once for all its listeners: every listener of the
    organization sends the same bytes for an event (its id names it for good), so a fan-out to many
    streams serialises it once rather than once per stream."""
    key = (organization_id, message["id"])
    chunk = _encoded.get(key)
    if chunk is None:
        chunk = _encoded[key] = ServerSentEvent(**to_sse(message)).encode()
        if len(_encoded) > ENCODED_KEPT:
            _encoded.popitem(last=False)
    return chunk


def reset_event(reason: str, position: int) -> dict[str, Any]:
    """The ``stream.reset`` event, in the envelope of every other event."""
    data = {"reason": reason, "lastEventId": str(position)}
    return to_sse({"id": position, "type": STREAM_RESET, "data": data, "occurredAt": iso_utc(utcnow())})


#: put in a listener's queue to wake it once its stream is closing (it carries no event)
_WAKE: dict[str, Any] = {}


async def _wake_when(closing: asyncio.Event, sub: Subscription) -> None:
    await closing.wait()
    with contextlib.suppress(asyncio.QueueFull):  # a full queue wakes the listener by itself
        sub.queue.put_nowait(_WAKE)


async def _next_live(sub: Subscription, closing: asyncio.Event) -> dict[str, Any] | None:
    """The next message from the bus, or None once the listener has lagged or is closing.

    A plain wait on the queue: a listener lags only when its queue is full (the wait returns at
    once), and a closing stream is woken through its queue (``_wake_when``), so no waiter is made
    per message, which a fan-out to many listeners would pay for each of them."""
    message = await sub.queue.get()
    return None if closing.is_set() or sub.lagged.is_set() else message


async def _in_order(
    runtime: Runtime, organization_id: str, sub: Subscription, last: int, closing: asyncio.Event
) -> AsyncIterator[dict[str, Any]]:
    """Every event after ``last`` exactly once, in id order: stored ones, then live ones.

    Ids are allocated under a lock held until commit, so when event ``n`` arrives every event before
    it is already in the log; one that arrives ahead of its predecessors (their fan-out is late, or
    another process published them) brings them from the log instead of skipping them."""
    async for stored in replay(runtime, organization_id, last):
        yield stored
        last = stored["id"]
    while (message := await _next_live(sub, closing)) is not None:
        if message["id"] > last + 1:
            async for stored in replay(runtime, organization_id, last):
                yield stored
                last = stored["id"]
        if message["id"] > last:
            yield message
            last = message["id"]


async def stream(
    runtime: Runtime,
    organization_id: str,
    after: int | None,
    visible: EventPredicate,
    closing: asyncio.Event,
) -> AsyncGenerator[dict[str, Any] | bytes]:
    """Subscribe first, then replay what followed ``after`` (or start from now), then go live: no
    gap, no duplicate. A listener that falls too far behind is told so (``stream.reset``) and
    closed; it reconnects from the position it reached and replays the rest. Once ``closing`` is
    set (the listener's access changed) the stream ends the same way, with reason
    ``access_changed``."""
    async with runtime.bus.subscribe(organization_id) as sub:
        waker = asyncio.create_task(_wake_when(closing, sub))
        try:
            position = after if after is not None else await last_event_id(runtime, organization_id)
            yield CONNECTED
            async for message in _in_order(runtime, organization_id, sub, position, closing):
                position = message["id"]  # events the listener may not see count as reached too
                if visible(message):
                    yield encoded(organization_id, message)
            # live delivery ends only when the listener lags or its access changed
            yield reset_event(ACCESS_CHANGED if closing.is_set() else LAGGED, position)
        finally:
            waker.cancel()
