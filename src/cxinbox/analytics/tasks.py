from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.analytics.rollups import fold
from cxinbox.core.jobs import job
from cxinbox.core.scheduler import periodic
from cxinbox.runtime import Runtime


@periodic(every_seconds=5)
@job("analytics.fold_slots", attempts=1)
async def fold_slots(runtime: Runtime, session: AsyncSession) -> None:
    """Keep the pending slot changes few, so that reading a series stays cheap."""
    await fold(session)
