from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations.counters import fold
from cxinbox.core.jobs import job
from cxinbox.core.scheduler import periodic
from cxinbox.runtime import Runtime


@periodic(every_seconds=5)
@job("conversations.fold_counts", attempts=1)
async def fold_counts(runtime: Runtime, session: AsyncSession) -> None:
    """Keep the pending count changes few, so that counting stays cheap."""
    await fold(session)
