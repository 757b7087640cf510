from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import job
from cxinbox.core.scheduler import periodic
from cxinbox.models.event_log import EventRecord
from cxinbox.runtime import Runtime


@periodic(every_seconds=3600)
@job("events.purge_old", attempts=1)
async def purge_old_events(runtime: Runtime, session: AsyncSession) -> None:
    """Keep the replay log to its retention window (at least the 24 hours clients rely on)."""
    cutoff = utcnow() - timedelta(hours=max(24, runtime.settings.event_retention_hours))
    await session.execute(delete(EventRecord).where(EventRecord.occurred_at < cutoff))
