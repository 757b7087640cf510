"""Time arithmetic in SQL, the same on SQLite (naive UTC text with microseconds) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, extract, func
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.analytics.period import SLOT_SECONDS


def _sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def slot_of(session: AsyncSession, column: Any) -> ColumnElement[int]:
    """The 15-minute UTC slot of a timestamp, as an integer (seconds since the epoch // 900)."""
    if _sqlite(session):  # naive UTC text: strftime reads it as UTC
        return cast(func.strftime("%s", column), Integer).op("/")(SLOT_SECONDS)
    return cast(func.floor(extract("epoch", column) / SLOT_SECONDS), BigInteger)


def microseconds_between(session: AsyncSession, start: Any, end: Any) -> ColumnElement[int]:
    """``end - start`` in whole microseconds: exact integers, so that medians and means taken from
    them equal those of Python's ``timedelta``."""
    if _sqlite(session):
        seconds = cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
        fraction = cast(func.substr(end, 21, 6), Integer) - cast(func.substr(start, 21, 6), Integer)
        return seconds * 1_000_000 + fraction
    # the interval's seconds as a double, back to whole microseconds (exact below 2**53 of them)
    return cast(func.round(func.date_part("epoch", end - start) * 1_000_000), BigInteger)
