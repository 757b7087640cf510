"""Statements over a set of ids whose text does not depend on how many there are, built once per
dialect (the outbound path runs them hundreds of times a second).

On PostgreSQL an ``IN (…)`` list is a different statement for every length, which asyncpg prepares
again for each (and a connection keeps only so many): ``= ANY(:ids)`` with one array bind is one
statement whatever the length, and pairs (an id and its value) are one ``unnest`` of two arrays
instead of a ``CASE`` branch per id. SQLite reads the list as one JSON array (``IN (SELECT value
FROM json_each(:ids))``, which searches the column's index for each): an expanded ``IN`` was
rendered anew at every execution, a bound parameter per id, and pairs likewise from two arrays.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, ColumnElement, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
POSTGRESQL = "postgresql"


def among(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the list bound as ``name``."""
    if dialect == POSTGRESQL:
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(select(func.json_each(bindparam(name, type_=JSON)).table_valued("value").c.value))


def pairs(dialect: str, keys: str = "keys", values: str = "values") -> Any:
    """A derived table ``(key, value)`` of the two lists bound as ``keys`` and ``values``
    (``pair_params``), aligned by position."""
    if dialect == POSTGRESQL:
        return (
            func.unnest(bindparam(keys, type_=ARRAY(String)), bindparam(values, type_=ARRAY(String)))
            .table_valued("key", "value")
            .render_derived()
        )
    k = func.json_each(bindparam(keys)).table_valued("key", "value").alias("k")
    v = func.json_each(bindparam(values)).table_valued("key", "value").alias("v")
    return select(k.c.value.label("key"), v.c.value.label("value")).where(k.c.key == v.c.key).subquery()


def pair_params(
    dialect: str, keys: Sequence[str], values: Sequence[str], *, key: str = "keys", value: str = "values"
) -> dict[str, Any]:
    if dialect == POSTGRESQL:
        return {key: list(keys), value: list(values)}
    return {key: json.dumps(list(keys)), value: json.dumps(list(values))}


class PerDialect(Generic[T]):
    """A statement built on first use for each dialect, then reused."""

    def __init__(self, build: Callable[[str], T]) -> None:
        self._build = build
        self._built: dict[str, T] = {}

    def __call__(self, session: AsyncSession) -> tuple[T, str]:
        dialect = session.get_bind().dialect.name
        built = self._built.get(dialect)
        if built is None:
            built = self._built[dialect] = self._build(dialect)
        return built, dialect
