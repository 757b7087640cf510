"""A bound on how many jobs of the ``llm`` queue are in the database at once.

Those jobs (the bot's turns) run by the hundred because most of their time is an await on a model,
outside any transaction. Their time in the database is split into phases, each one transaction
entered through ``DbPhases.phase``: at most ``limit`` phases run at once in a process, the others
wait their turn before they take a connection. So hundreds of turns finishing together queue here,
in order, instead of in the connection pool (where they would take every connection from the
webhooks and requests and then time out).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.db import commit, rollback


class DbPhases:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A place within the bound, for a phase of another session (a read session's reads)."""
        async with self._slots:
            yield

    @asynccontextmanager
    async def phase(self, session: AsyncSession) -> AsyncIterator[None]:
        """One unit of work on ``session`` within the bound: committed when the block ends, with its
        commit hooks (so what it queued is released then, as the job's own commit would), rolled
        back when it raises; either way its connection is given back before the slot is."""
        async with self._slots:
            try:
                yield
            except BaseException:
                await rollback(session)
                raise
            await commit(session)
