"""Reading, folding and rebuilding the bot's per-day figures (``models/bot_metric_days.py``).

A window of the metrics is ``[since, now]``, ``since`` anywhere in a day: its whole UTC days are
read from the days (folded and pending changes together, so a figure is exact whether or not the
fold has run), and the part of the day ``since`` falls in from the rows themselves, through the
indexes each table has on (organization, time). The figures are sums and counts only (the mean
latency is a sum over a count), so the two parts add up to exactly what the rows say.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.change_log import ChangeLog
from cxinbox.core.jobs import job
from cxinbox.core.scheduler import periodic
from cxinbox.models.bot_metric_days import BotDayMetric, BotMetricDay, BotMetricDayChange
from cxinbox.models.bot_sessions import BotSession
from cxinbox.models.bot_studio import BotFeedback
from cxinbox.models.bot_turns import BotTurn
from cxinbox.runtime import Runtime

DAY_SECONDS = 86400
DAYS: Table = BotMetricDay.__table__  # type: ignore[assignment]
CHANGES: Table = BotMetricDayChange.__table__  # type: ignore[assignment]
SESSION_METRICS = (
    BotDayMetric.OPEN,
    BotDayMetric.ESCALATED,
    BotDayMetric.RESOLVED_CONFIRMED,
    BotDayMetric.ABANDONED,
)
DAY_LOG = ChangeLog(
    "bot_metric_days", "bot_metric_day_changes", ("organization_id", "day", "metric"), "value"
)


def _sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def day_start(day: int) -> datetime:
    return datetime.fromtimestamp(day * DAY_SECONDS, UTC)


def first_whole_day(since: datetime) -> int:
    """The first UTC day that starts at or after ``since``."""
    return math.ceil(since.timestamp() / DAY_SECONDS)


async def figures(
    session: AsyncSession, organization_id: str, since: datetime, metrics: Collection[BotDayMetric]
) -> Counter[str]:
    """``metrics`` of the organization's rows from ``since`` on, by metric, in one statement."""
    day = first_whole_day(since)
    names = [m.value for m in metrics]
    parts: list[Select[Any, Any]] = [
        select(table.c.metric, table.c.value).where(
            table.c.organization_id == organization_id, table.c.day >= day, table.c.metric.in_(names)
        )
        for table in (DAYS, CHANGES)
    ]
    if since < (edge := day_start(day)):
        parts += _rows_between(session, organization_id, since, edge, metrics)
    rows = union_all(*parts).subquery()
    result = await session.execute(
        select(rows.c.metric, func.sum(rows.c.value)).where(rows.c.metric.in_(names)).group_by(rows.c.metric)
    )
    return Counter({metric: int(value) for metric, value in result if value is not None})


def _rows_between(
    session: AsyncSession,
    organization_id: str,
    start: datetime,
    end: datetime,
    metrics: Collection[BotDayMetric],
) -> list[Select[Any, Any]]:
    """The rows' amounts in ``[start, end)``, as the triggers count them (only the sources of
    ``metrics``)."""
    parts: list[Select[Any, Any]] = []
    for source in _sources(session, organization_id):
        if set(source.metrics).isdisjoint(metrics):
            continue
        parts.append(
            select(source.metric.label("metric"), source.value.label("value"))
            .where(*source.where, source.at >= start, source.at < end)
            .group_by(*source.group)
        )
    return parts


@dataclass
class _Source:
    """What one table adds to the days: the ``metric`` of a group of rows (grouped by ``group``
    and their day) and its aggregate ``value``, counted on the day of ``at``, for the rows
    ``where`` holds."""

    metrics: Collection[BotDayMetric]
    metric: ColumnElement[str]
    value: ColumnElement[int]
    at: Any
    where: list[ColumnElement[bool]]
    group: list[Any] = field(default_factory=list)


def _sources(session: AsyncSession, organization_id: str) -> list[_Source]:
    s, f, t = BotSession, BotFeedback, BotTurn
    latency = [t.organization_id == organization_id, t.model_latency_ms.is_not(None)]
    return [
        _Source(
            SESSION_METRICS,
            func.coalesce(s.closure_type, literal(BotDayMetric.OPEN.value), type_=String),
            func.count(),
            s.started_at,
            [s.organization_id == organization_id],
            [s.closure_type],
        ),
        _Source(
            [BotDayMetric.TURNS],
            literal(BotDayMetric.TURNS.value),
            func.coalesce(func.sum(s.turns), 0),
            s.started_at,
            [s.organization_id == organization_id],
        ),
        _Source(
            [BotDayMetric.HELPFUL, BotDayMetric.NOT_HELPFUL],
            case((f.rating == 1, BotDayMetric.HELPFUL.value), else_=BotDayMetric.NOT_HELPFUL.value),
            func.count(),
            f.created_at,
            [f.organization_id == organization_id, f.rating.in_((0, 1))],
            [f.rating],
        ),
        _Source(
            [BotDayMetric.LATENCY_MS],
            literal(BotDayMetric.LATENCY_MS.value),
            func.coalesce(func.sum(t.model_latency_ms), 0),
            t.created_at,
            latency,
        ),
        _Source(
            [BotDayMetric.LATENCY_TURNS],
            literal(BotDayMetric.LATENCY_TURNS.value),
            func.count(),
            t.created_at,
            latency,
        ),
    ]


def _day_of(session: AsyncSession, column: Any) -> ColumnElement[int]:
    """The UTC day of a timestamp, as an integer (seconds since the epoch // 86400)."""
    if _sqlite(session):  # naive UTC text: strftime reads it as UTC
        return cast(func.strftime("%s", column), Integer).op("/")(DAY_SECONDS)
    return cast(func.floor(extract("epoch", column) / DAY_SECONDS), BigInteger)


async def fold(session: AsyncSession) -> None:
    """Fold the pending day changes into the days."""
    await DAY_LOG.fold(session)


async def rebuild(session: AsyncSession, organization_id: str) -> None:
    """Recompute one organization's days from its sessions, turns and ratings: for rows loaded
    without the triggers, or with them but too many to fold soon (a bulk load). The tables are
    locked against writes meanwhile (PostgreSQL)."""
    if not _sqlite(session):
        await session.execute(text("LOCK TABLE bot_sessions, bot_turns, bot_feedback IN SHARE MODE"))
    for model in (BotMetricDay, BotMetricDayChange):
        await session.execute(delete(model).where(model.organization_id == organization_id))
    for source in _sources(session, organization_id):
        day = _day_of(session, source.at).label("day")
        rows = select(literal(organization_id), day, source.metric, source.value).where(*source.where)
        await session.execute(
            insert(BotMetricDay).from_select(
                ["organization_id", "day", "metric", "value"], rows.group_by(day, *source.group)
            )
        )


@periodic(every_seconds=5)
@job("studio.fold_metric_days", attempts=1)
async def fold_metric_days(runtime: Runtime, session: AsyncSession) -> None:
    """Keep the pending day changes few, so that reading a window stays cheap."""
    await fold(session)
