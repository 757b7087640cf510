"""The one source of "now": timezone-aware UTC; and sleeping that a stop can cut short."""

import asyncio
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes (SQLite hands them back) are UTC by our convention."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def sleep_unless(event: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``, or less if ``event`` is set meanwhile; True when it was set."""
    if event.is_set():
        # asyncio.wait_for with no time left cancels the wait before it could see the event
        return True
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True
