"""Jobs of the channel: process a stored webhook event, and the sweeper that finds events left
unprocessed (a crash between "stored" and "processed", a lost job, a failing attempt)."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.db import rollback
from cxinbox.core.jobs import enqueue, job
from cxinbox.core.scheduler import periodic
from cxinbox.models.whatsapp import WebhookEvent
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.processor import process_event

log = structlog.get_logger(__name__)

#: an event still unprocessed this long after it arrived is considered left behind
SWEEP_AFTER_SECONDS = 60
#: after this many failed attempts an event is left for an operator (its ``error`` says why)
MAX_EVENT_ATTEMPTS = 20
SWEEP_BATCH = 500


@job("whatsapp.process_webhook", attempts=5, backoff_seconds=1.0)
async def process_webhook(runtime: Runtime, session: AsyncSession, event_id: str) -> None:
    try:
        await process_event(session, runtime, event_id)
    except Exception as exc:
        await rollback(session)
        async with runtime.unit_of_work() as failure_session:
            await failure_session.execute(
                update(WebhookEvent)
                .where(WebhookEvent.id == event_id)
                .values(attempts=WebhookEvent.attempts + 1, error=f"{type(exc).__name__}: {exc}"[:2000])
            )
        raise


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
