"""Meta's messaging tier: how many unique customers a number may reach with templates (business-
initiated messages) in a rolling 24 hours.

The tier is what Meta reports for the number (``messaging_limit_tier``: ``TIER_250``, ``TIER_1K``,
``TIER_10K``, ``TIER_100K``, ``TIER_UNLIMITED``). A number whose tier is not known yet is held to
250, Meta's starting limit. Use is counted from the outbox: the distinct recipients of template
messages queued on the number in the last 24 hours (campaigns and single sends alike).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.models.outbound import OutboxEntry
from cxinbox.models.whatsapp import WhatsAppAccount

ROLLING_WINDOW = timedelta(hours=24)
STARTING_LIMIT = 250
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


async def room_left(session: AsyncSession, account: WhatsAppAccount, now: datetime) -> Room:
    limit = tier_limit(account.messaging_limit_tier)
    if limit is None:
        return Room(left=None, frees_at=None)
    used, oldest = (
        await session.execute(
            select(func.count(func.distinct(OutboxEntry.recipient)), func.min(OutboxEntry.created_at)).where(
                OutboxEntry.organization_id == account.organization_id,
                OutboxEntry.whatsapp_account_id == account.id,
                OutboxEntry.template_name.is_not(None),
                OutboxEntry.created_at >= now - ROLLING_WINDOW,
            )
        )
    ).one()
    return Room(left=max(0, limit - int(used or 0)), frees_at=oldest + ROLLING_WINDOW if oldest else None)
