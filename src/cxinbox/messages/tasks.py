"""Jobs of the messages area."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.jobs import job
from cxinbox.core.scheduler import periodic
from cxinbox.messages.idempotency import purge_expired
from cxinbox.runtime import Runtime


@periodic(every_seconds=3600)
@job("messages.purge_idempotency_keys", attempts=1)
async def purge_idempotency_keys(runtime: Runtime, session: AsyncSession) -> None:
    await purge_expired(session)
