"""Jobs of the channel: process stored webhook events, and the sweeper that finds events left
unprocessed (a crash between "stored" and "processed", a lost job, a failing attempt).

Stored events are processed by a drain: one per process at a time, oldest first, in batches of one
transaction each (``inbound.processor.process_events``), until none is left. Storing events only
asks for a drain, at most every ``DRAIN_KICK_INTERVAL`` seconds per process, so a burst of webhooks
does not become a burst of jobs competing for the database.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.db import rollback
from cxinbox.core.jobs import Queue, enqueue, job
from cxinbox.core.scheduler import periodic
from cxinbox.models.whatsapp import WebhookEvent
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.processor import process_events

log = structlog.get_logger(__name__)

#: an event still unprocessed this long after it arrived is considered left behind
SWEEP_AFTER_SECONDS = 60
#: after this many failed attempts an event is left for an operator (its ``error`` says why)
MAX_EVENT_ATTEMPTS = 20
SWEEP_BATCH = 500


DRAIN_BATCH = 200
DRAIN_KICK_INTERVAL = 0.05
DRAIN_KICK_RETRY_SECONDS = 1.0
#: a drain also runs this often without being asked: the kicks live in the process that stored the
#: bodies (or in the job queue until a worker takes one), so a process killed after it acknowledged
#: bodies and before it processed them leaves them with no drain to come; after a restart they would
#: otherwise wait for the next webhook or the sweeper (a minute and more)
DRAIN_EVERY_SECONDS = 5
#: events processed in one transaction by the drain (a fixed number of statements for the whole
#: batch)
PROCESS_BATCH = 200
#: ... while this process is also acknowledging webhooks: its event loop answers them between
#: batches, and on SQLite a transaction holds the only write lock, which their group commit waits
#: for. A worker process, which stores no webhooks, always takes full batches.
PROCESS_BATCH_ACKS_BUSY = 20
#: webhooks stored by this process this recently mean acknowledgements are under way
ACKS_BUSY_SECONDS = 0.25


@job("whatsapp.process_webhook", queue=Queue.REALTIME, attempts=5, backoff_seconds=1.0)
async def process_webhook(runtime: Runtime, session: AsyncSession, event_id: str) -> None:
    try:
        await _process_claimed(session, runtime, event_id)
    except Exception as exc:
        await rollback(session)
        await _record_failure(runtime, event_id, exc)
        raise


async def _process_claimed(session: AsyncSession, runtime: Runtime, *event_ids: str) -> None:
    """Process the events that are still unprocessed, oldest first, except those another worker
    holds (PostgreSQL: ``SKIP LOCKED``); one read claims them all."""
    claimed = await session.scalars(
        select(WebhookEvent)
        .where(WebhookEvent.id.in_(event_ids), WebhookEvent.processed_at.is_(None))
        .order_by(WebhookEvent.received_at, WebhookEvent.id)
        .with_for_update(skip_locked=True)
    )
    await process_events(session, runtime, claimed.all())


async def _record_failure(runtime: Runtime, event_id: str, exc: Exception) -> None:
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id == event_id)
            .values(attempts=WebhookEvent.attempts + 1, error=f"{type(exc).__name__}: {exc}"[:2000])
        )


@dataclass
class _DrainState:
    draining: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: new events may have been stored since the running drain last looked
    dirty: bool = False
    last_kick: float = 0.0
    #: when events were last stored (``request_drain``)
    last_stored: float = 0.0
    kick_pending: bool = False
    timers: set[asyncio.Task[None]] = field(default_factory=set)


_DRAINS: weakref.WeakKeyDictionary[Runtime, _DrainState] = weakref.WeakKeyDictionary()


def _drain_state(runtime: Runtime) -> _DrainState:
    state = _DRAINS.get(runtime)
    if state is None:
        state = _DRAINS[runtime] = _DrainState()
    return state


async def request_drain(runtime: Runtime) -> None:
    """Ask for a drain of stored events (kicks are spaced ``DRAIN_KICK_INTERVAL`` apart)."""
    state = _drain_state(runtime)
    state.last_stored = time.monotonic()
    if state.kick_pending:
        return
    delay = state.last_kick + DRAIN_KICK_INTERVAL - time.monotonic()
    if delay <= 0:
        state.last_kick = time.monotonic()
        try:
            await runtime.jobs.kick(drain_webhooks.job_name)
            return
        except Exception:  # the queue is unreachable for now: ask again shortly
            log.warning("whatsapp_drain_kick_failed", exc_info=True)
            delay = DRAIN_KICK_RETRY_SECONDS
    state.kick_pending = True

    async def later() -> None:
        await asyncio.sleep(delay)
        state.kick_pending = False
        await request_drain(runtime)

    timer = asyncio.create_task(later())
    state.timers.add(timer)
    timer.add_done_callback(state.timers.discard)


@periodic(every_seconds=DRAIN_EVERY_SECONDS)
@job("whatsapp.drain_webhooks", queue=Queue.REALTIME, attempts=1)
async def drain_webhooks(runtime: Runtime, session: AsyncSession) -> None:
    state = _drain_state(runtime)
    state.dirty = True
    if state.draining.locked():
        return  # the running drain sees ``dirty`` and looks again
    async with state.draining:
        tried: set[str] = set()  # an event that fails waits for the sweeper, not for a hot loop
        while state.dirty:
            state.dirty = False
            while ids := [i for i in await _pending_ids(runtime) if i not in tried]:
                state.dirty = False
                tried.update(ids)
                while ids:
                    size = _batch_size(state)
                    await _process_batch(runtime, ids[:size])
                    ids = ids[size:]


def _batch_size(state: _DrainState) -> int:
    acks_busy = time.monotonic() - state.last_stored < ACKS_BUSY_SECONDS
    return PROCESS_BATCH_ACKS_BUSY if acks_busy else PROCESS_BATCH


async def _pending_ids(runtime: Runtime) -> list[str]:
    """The oldest unprocessed events' ids: a read of the primary's database (on SQLite outside the
    write gate, which the acknowledgements need; each batch's claim checks them again)."""
    async with runtime.read_session(current=True) as session:
        ids = await session.scalars(
            select(WebhookEvent.id)
            .where(WebhookEvent.processed_at.is_(None), WebhookEvent.attempts < MAX_EVENT_ATTEMPTS)
            .order_by(WebhookEvent.received_at)
            .limit(DRAIN_BATCH)
        )
        return list(ids)


async def _process_batch(runtime: Runtime, ids: list[str]) -> None:
    """Process ``ids`` in one transaction; if one fails, each on its own (the others still go)."""
    if len(ids) > 1:
        try:
            async with runtime.unit_of_work() as session:
                await _process_claimed(session, runtime, *ids)
            return
        except Exception:
            log.info("whatsapp_webhook_batch_failed", size=len(ids))
    for event_id in ids:
        await _process_one(runtime, event_id)


async def _process_one(runtime: Runtime, event_id: str) -> None:
    try:
        async with runtime.unit_of_work() as session:
            await _process_claimed(session, runtime, event_id)
    except Exception as exc:
        log.warning("whatsapp_webhook_processing_failed", event_id=event_id, error=type(exc).__name__)
        await _record_failure(runtime, event_id, exc)


@periodic(every_seconds=30)
@job("whatsapp.sweep_webhooks", attempts=1)
async def sweep_webhooks(runtime: Runtime, session: AsyncSession) -> None:
    cutoff = utcnow() - timedelta(seconds=SWEEP_AFTER_SECONDS)
    left_behind = await session.scalars(
        select(WebhookEvent.id)
        .where(
            WebhookEvent.processed_at.is_(None),
            WebhookEvent.received_at < cutoff,
            WebhookEvent.attempts < MAX_EVENT_ATTEMPTS,
        )
        .order_by(WebhookEvent.received_at)
        .limit(SWEEP_BATCH)
    )
    ids = list(left_behind)
    for event_id in ids:
        enqueue(session, process_webhook, event_id=event_id)
    if ids:
        log.info("whatsapp_webhooks_swept", count=len(ids))
