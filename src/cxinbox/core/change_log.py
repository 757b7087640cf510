"""Counters kept as an append-only log of signed changes and folded into totals.

Database triggers append a row per change (an insert only, so concurrent writers never wait on one
another's counter row); a periodic job folds the pending rows into the totals table (a row per key,
added to with an upsert). A reader sums the totals and the pending changes, so its figure is exact
whether or not the fold has run. The totals table has a unique key on ``key`` and a foreign key to
``organizations``; the changes have none, so a deleted organization's changes are dropped here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

FOLD_BATCH = 100_000


@dataclass(frozen=True)
class ChangeLog:
    """``changes`` (an ``id`` in order of appending, the ``key`` columns and ``amount``) folded into
    ``totals`` (the ``key`` columns and ``amount``)."""

    totals: str
    changes: str
    key: tuple[str, ...]
    amount: str

    def _add(self, source: str) -> str:
        key, amount = ", ".join(self.key), self.amount
        return (
            f"INSERT INTO {self.totals} ({key}, {amount}) SELECT {key}, sum({amount}) FROM {source} "
            f"WHERE organization_id IN (SELECT id FROM organizations) GROUP BY {key} "
            f"ON CONFLICT ({key}) DO UPDATE SET {amount} = {self.totals}.{amount} + excluded.{amount}"
        )

    def _fold_postgresql(self) -> TextClause:
        """The changes a fold takes are exactly those it deletes (one statement, one snapshot)."""
        return text(
            f"WITH moved AS (DELETE FROM {self.changes} WHERE id IN "
            f"(SELECT id FROM {self.changes} ORDER BY id LIMIT :batch) "
            f"RETURNING {', '.join(self.key)}, {self.amount}) {self._add('moved')}"
        )

    async def fold(self, session: AsyncSession) -> None:
        """Fold up to ``FOLD_BATCH`` pending changes (PostgreSQL), or all of them (SQLite, which runs
        one writing transaction at a time: fold up to an id, then delete up to it)."""
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(self._fold_postgresql(), {"batch": FOLD_BATCH})
            return
        last = await session.scalar(text(f"SELECT max(id) FROM {self.changes}"))
        if last is not None:
            moved = f"(SELECT * FROM {self.changes} WHERE id <= :last) AS moved"
            await session.execute(text(self._add(moved)), {"last": last})
            await session.execute(text(f"DELETE FROM {self.changes} WHERE id <= :last"), {"last": last})
