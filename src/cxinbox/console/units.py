"""A console action's transaction, kept as the API's request keeps it: committed when the work
returns, rolled back when it raises (committed when the error says its changes stay, as a wrong
one-time code's counted attempt does). The page shows the error after the transaction has ended."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.db import commit, rollback
from cxinbox.core.errors import AppError
from cxinbox.runtime import Runtime

T = TypeVar("T")


async def in_unit_of_work(runtime: Runtime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with runtime.sessionmaker() as session:
        try:
            result = await work(session)
        except AppError as exc:
            await (commit(session) if exc.keep_changes else rollback(session))
            raise
        except BaseException:
            await rollback(session)
            raise
        await commit(session)
        return result
