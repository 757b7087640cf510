"""Page- and cursor-based pagination shared by every list endpoint.

Page lists: ``PageParams`` (``page`` + ``limit``, or ``pageSize`` where the reference says so) and
``paginate()`` which runs the count and the page query.

Cursor lists: keyset pagination over a sort key plus the id as tie-breaker, so that concurrent
inserts never make a page skip or repeat a row. The cursor is an opaque url-safe string.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Query
from sqlalchemy import Select, and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from cxinbox.core.errors import ValidationFailed
from cxinbox.core.validation import MAX_PAGE, InvalidValue, check_datetime, check_value, decode_json_cursor
from cxinbox.core.wire import CursorMeta, PageMeta, PageSizeMeta

T = TypeVar("T")
MAX_LIMIT = 100


@dataclass(frozen=True)
class PageParams:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def meta(self, total: int) -> PageMeta:
        return PageMeta(
            page=self.page, limit=self.limit, total=total, total_pages=math.ceil(total / self.limit)
        )

    def size_meta(self, total: int) -> PageSizeMeta:
        """``meta`` for lists that take ``pageSize`` instead of ``limit``."""
        return PageSizeMeta(
            page=self.page, page_size=self.limit, total=total, total_pages=math.ceil(total / self.limit)
        )


async def page_params(
    page: int = Query(1, ge=1, le=MAX_PAGE, description="1-based page number"),
    limit: int = Query(20, ge=1, le=MAX_LIMIT, description="Items per page"),
) -> PageParams:
    return PageParams(page=page, limit=limit)


async def page_size_params(
    page: int = Query(1, ge=1, le=MAX_PAGE, description="1-based page number"),
    page_size: int = Query(25, ge=1, le=MAX_LIMIT, alias="pageSize", description="Items per page"),
) -> PageParams:
    return PageParams(page=page, limit=page_size)


async def paginate(session: AsyncSession, stmt: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """Run ``stmt`` for one page and count all its rows. ``stmt`` must already be ordered."""
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.scalars(stmt.limit(params.limit).offset(params.offset))).all()
    return list(rows), int(total or 0)


# ---- cursors -----------------------------------------------------------------------------------


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The ``size`` sort values of ``cursor``: scalars that a query can bind."""
    values = decode_json_cursor(cursor)
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed.field("cursor", "is not a valid cursor")
    for value in values:
        if value is not None and not isinstance(value, str | int | float):
            raise ValidationFailed.field("cursor", "is not a valid cursor")
        try:
            check_value(value)
        except InvalidValue:
            raise ValidationFailed.field("cursor", "is not a valid cursor") from None
    return values


@dataclass(frozen=True)
class KeysetOrder:
    """An ordering over ``columns`` (the last one unique, usually the id), all ascending or all
    descending, with the decoders that turn cursor values back into column values.

    ``nullable_first``: the first column may be NULL. NULLs then sort as if greater than every
    value (first when descending, last when ascending: PostgreSQL's own placement, so its b-tree
    indexes serve the order) on every database.

    "After a cursor" is a row-value comparison, ``(a, b) < (x, y)``, which PostgreSQL and SQLite
    turn into an index range: a deep page costs what the first page costs.
    """

    columns: Sequence[InstrumentedAttribute[Any]]
    descending: bool = True
    decoders: Sequence[Callable[[Any], Any]] = ()
    nullable_first: bool = False

    def order_by(self) -> list[Any]:
        first, *rest = [c.desc() if self.descending else c.asc() for c in self.columns]
        if self.nullable_first:
            first = first.nulls_first() if self.descending else first.nulls_last()
        return [first, *rest]

    def after(self, values: Sequence[Any]) -> Any:
        """Rows strictly after ``values`` in this order."""
        decoded = [None if v is None else dec(v) for dec, v in zip(self._decoders(), values, strict=True)]
        if not self.nullable_first:
            if None in decoded:
                raise ValidationFailed.field("cursor", "is not a valid cursor")
            return self._beyond(self.columns, decoded)
        first, rest, rest_values = self.columns[0], self.columns[1:], decoded[1:]
        if None in rest_values:
            raise ValidationFailed.field("cursor", "is not a valid cursor")
        if decoded[0] is None:
            null_tail = and_(first.is_(None), self._beyond(rest, rest_values))
            return or_(null_tail, first.is_not(None)) if self.descending else null_tail
        beyond = self._beyond(self.columns, decoded)
        return beyond if self.descending else or_(beyond, first.is_(None))

    def _beyond(self, columns: Sequence[Any], values: Sequence[Any]) -> Any:
        row = tuple_(*columns)
        return row < tuple(values) if self.descending else row > tuple(values)

    def _decoders(self) -> Sequence[Callable[[Any], Any]]:
        return self.decoders or [lambda v: v] * len(self.columns)


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValidationFailed.field("cursor", "is not a valid cursor")
    try:
        return check_datetime(datetime.fromisoformat(value))
    except ValueError as exc:
        raise ValidationFailed.field("cursor", "is not a valid cursor") from exc


async def cursor_page(
    session: AsyncSession,
    stmt: Select[Any],
    order: KeysetOrder,
    cursor: str | None,
    limit: int,
    key: Callable[[Any], Sequence[Any]],
) -> tuple[list[Any], CursorMeta]:
    """One page of ``stmt`` in ``order`` after ``cursor``; ``key`` reads a row's sort values."""
    if cursor:
        stmt = stmt.where(order.after(decode_cursor(cursor, len(order.columns))))
    rows = list((await session.scalars(stmt.order_by(*order.order_by()).limit(limit + 1))).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(key(rows[-1])) if has_more and rows else None
    return rows, CursorMeta(next_cursor=next_cursor, has_more=has_more)
