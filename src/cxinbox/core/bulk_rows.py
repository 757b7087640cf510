"""Many new rows of one table in the caller's transaction, at the driver's speed.

SQLAlchemy's executemany converts every value of every row through its column type (a timestamp
through ``UtcDateTime`` and the dialect, an enum to its value) and builds a parameter dict per row:
for 100,000 rows that is most of the time. Here each column's conversion runs once per distinct
value (a campaign's rows share their timestamps, status and few prices), then the rows go to the
driver as they are: PostgreSQL's ``COPY`` (asyncpg's ``copy_records_to_table`` on the session's own
connection, so inside its transaction), SQLite's ``executemany`` of one plain ``INSERT``.

The rows skip the ORM (no Python-side defaults, no flush events): the caller gives every column it
needs; the others take their server default or NULL. Database triggers run as for any insert.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

Processor = Callable[[Any], Any]


async def insert_rows(
    session: AsyncSession, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples of Python values, in the order of ``columns``) into ``table``."""
    if not rows:
        return
    connection = await session.connection()
    dialect = connection.dialect
    converted = _converted(dialect, table, columns, rows)
    if dialect.name == "postgresql":
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.copy_records_to_table(table.name, records=converted, columns=list(columns))
        return
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    await connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', converted)


def _converted(
    dialect: Dialect, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """The rows with each value as the driver takes it: each column's bind conversion, computed
    once per distinct value (not at all for columns without one: text, integers)."""
    processors = [_Memo(p) if (p := _processor(dialect, table, c)) else None for c in columns]
    if not any(processors):
        return [tuple(row) for row in rows]
    return [tuple(v if p is None else p(v) for p, v in zip(processors, row, strict=True)) for row in rows]


def _processor(dialect: Dialect, table: Table, column: str) -> Processor | None:
    return table.c[column].type._cached_bind_processor(dialect)  # noqa: SLF001 - SQLAlchemy's own


class _Memo:
    """A column's conversion remembered per value (values that cannot be hashed are converted
    each time: JSON objects). None goes through it too: a JSON column stores it as JSON ``null``,
    as SQLAlchemy's own insert does."""

    def __init__(self, processor: Processor) -> None:
        self.processor = processor
        self.seen: dict[Hashable, Any] = {}

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, Hashable):
            return self.processor(value)
        try:
            return self.seen[value]
        except KeyError:
            converted = self.seen[value] = self.processor(value)
            return converted
