"""Meta's messaging tier: how many unique customers a number may reach with templates (business-
initiated messages) in a rolling 24 hours.

The tier is what Meta reports for the number (``messaging_limit_tier``: ``TIER_250``, ``TIER_1K``,
``TIER_10K``, ``TIER_100K``, ``TIER_UNLIMITED``). A number whose tier is not known yet is held to
250, Meta's starting limit. Use is counted from the outbox: the distinct recipients of template
messages queued on the number in the last 24 hours (campaigns and single sends alike).

That count reads every such row of the 24 hours (up to the tier's size), and a campaign takes a step
every fraction of a second: so it is kept (``runtime.cache``, shared by the processes with Redis)
for ``RECOUNT_SECONDS``, and in between a step adds the template rows the number queued since the
count, from ``MARGIN`` before it (a transaction that began before the count and committed after it
is not missed; a row counted twice, or a recipient reached again, only makes the use look larger).
The use so estimated is never below the true one; when it leaves no room, the rows are counted
exactly again (an estimate never holds a campaign back on its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.models.outbound import OutboxEntry
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime

ROLLING_WINDOW = timedelta(hours=24)
STARTING_LIMIT = 250
#: how long an exact count of a number's use is kept (steps in between add what was queued since)
RECOUNT_SECONDS = 60
#: how far before the exact count a step counts the rows queued since (longer than a transaction
#: that writes template sends may take between its rows' ``created_at`` and its commit)
MARGIN = timedelta(seconds=10)
CACHE_PREFIX = "campaigns:tier-use:"
_TIER = re.compile(r"TIER_(\d+)(K?)")


def tier_limit(tier: str | None) -> int | None:
    """Unique recipients per 24 h the tier allows; None when unlimited."""
    if tier == "TIER_UNLIMITED":
        return None
    match = _TIER.fullmatch(tier or "")
    if match is None:
        return STARTING_LIMIT
    return int(match.group(1)) * (1000 if match.group(2) else 1)


@dataclass(frozen=True)
class Room:
    #: recipients that may still be reached now (None: no limit)
    left: int | None
    #: when the oldest counted send leaves the window (a limit that is used up frees up then)
    frees_at: datetime | None


async def room_left(runtime: Runtime, session: AsyncSession, account: WhatsAppAccount, now: datetime) -> Room:
    limit = tier_limit(account.messaging_limit_tier)
    if limit is None:
        return Room(left=None, frees_at=None)
    key = f"{CACHE_PREFIX}{account.id}"
    if (cached := await runtime.cache.get(key)) is not None:
        counted = _Counted.model_validate_json(cached)
        since = await session.scalar(select(func.count()).where(*_rows_of(account, counted.at - MARGIN)))
        used = counted.used + int(since or 0)
        if used < limit:
            return Room(left=limit - used, frees_at=counted.frees_at)
    used, oldest = (
        await session.execute(
            select(func.count(func.distinct(OutboxEntry.recipient)), func.min(OutboxEntry.created_at)).where(
                *_rows_of(account, now - ROLLING_WINDOW)
            )
        )
    ).one()
    room = Room(left=max(0, limit - int(used or 0)), frees_at=oldest + ROLLING_WINDOW if oldest else None)
    counted = _Counted(at=now, used=int(used or 0), frees_at=room.frees_at)
    await runtime.cache.put(key, counted.model_dump_json(), RECOUNT_SECONDS)
    return room


def _rows_of(account: WhatsAppAccount, since: datetime) -> tuple[Any, ...]:
    """The number's template rows queued since ``since``."""
    return (
        OutboxEntry.organization_id == account.organization_id,
        OutboxEntry.whatsapp_account_id == account.id,
        OutboxEntry.template_name.is_not(None),
        OutboxEntry.created_at >= since,
    )


class _Counted(BaseModel):
    """An exact count of a number's use, as kept between steps."""

    at: datetime
    used: int
    frees_at: datetime | None
