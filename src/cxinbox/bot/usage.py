"""What the bot used per month: replies it sent (the plan's ``monthlyBotReplies``) and the tokens of
every provider call. Counts are atomic upserts, so concurrent calls never lose one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import Usage
from cxinbox.bot.schemas import UsageOut
from cxinbox.core.clock import utcnow
from cxinbox.models.bot import BotUsage
from cxinbox.models.identity import Organization
from cxinbox.plans.limits import MONTHLY_BOT_REPLIES, limit_for

HISTORY_MONTHS = 12


def period_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


async def record(session: AsyncSession, organization_id: str, usage: Usage, *, replies: int = 0) -> None:
    """Add one call's tokens (and ``replies`` sent) to this month's row."""
    await record_all(session, [(organization_id, usage, replies)])


async def record_all(session: AsyncSession, used: list[tuple[str, Usage, int]]) -> None:
    """``record`` of each ``(organization id, tokens, replies)`` (the bot's turns finished together),
    summed per organization: one upsert of each organization's row, in the order of their ids (so
    two transactions adding to the same rows lock them in the same order)."""
    totals: dict[str, list[int]] = {}
    for organization_id, usage, replies in used:
        counted = totals.setdefault(organization_id, [0, 0, 0])
        counted[0] += replies
        counted[1] += usage.input_tokens
        counted[2] += usage.output_tokens
    period = period_of(utcnow())
    rows = [
        dict(zip(_COUNTED, (organization_id, period, *totals[organization_id]), strict=True))
        for organization_id in sorted(totals)
    ]
    if rows:
        await session.execute(_UPSERTS[session.get_bind().dialect.name == "postgresql"], rows)


def _upsert(insert: Any) -> Any:
    """The month's row added to (built once per dialect: building it cost more than running it)."""
    table = BotUsage.__table__.c
    stmt = insert(BotUsage).values({name: bindparam(name) for name in _COUNTED})
    return stmt.on_conflict_do_update(
        index_elements=[table.organization_id, table.period],
        set_={
            "bot_replies": table.bot_replies + stmt.excluded.bot_replies,
            "input_tokens": table.input_tokens + stmt.excluded.input_tokens,
            "output_tokens": table.output_tokens + stmt.excluded.output_tokens,
        },
    )


_COUNTED = ("organization_id", "period", "bot_replies", "input_tokens", "output_tokens")
#: by whether the database is PostgreSQL (else SQLite)
_UPSERTS = {True: _upsert(pg_insert), False: _upsert(sqlite_insert)}


async def monthly_replies(session: AsyncSession, organization_id: str) -> int:
    """The plan counter ``monthlyBotReplies``: replies sent this month."""
    stmt = select(BotUsage.bot_replies).where(
        BotUsage.organization_id == organization_id, BotUsage.period == period_of(utcnow())
    )
    return int(await session.scalar(stmt) or 0)


async def current(session: AsyncSession, org: Organization) -> UsageOut:
    return (await _months(session, org, 1))[0]


async def history(session: AsyncSession, org: Organization) -> list[UsageOut]:
    """The last 12 months, oldest first, months without use as zeros."""
    return await _months(session, org, HISTORY_MONTHS)


async def _months(session: AsyncSession, org: Organization, count: int) -> list[UsageOut]:
    now = utcnow()
    periods = []
    year, month = now.year, now.month
    for _ in range(count):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    periods.reverse()
    stmt = select(BotUsage).where(BotUsage.organization_id == org.id, BotUsage.period.in_(periods))
    rows = {row.period: row for row in await session.scalars(stmt)}
    limit = limit_for(org, MONTHLY_BOT_REPLIES)
    result = []
    for period in periods:
        row = rows.get(period)
        replies = row.bot_replies if row else 0
        result.append(
            UsageOut(
                period=period,
                bot_replies=replies,
                limit=limit,
                remaining=None if limit is None else max(0, limit - replies),
                input_tokens=row.input_tokens if row else 0,
                output_tokens=row.output_tokens if row else 0,
            )
        )
    return result
