"""The bot's quality figures per organization and UTC day: what ``metrics/quality`` and the count of
``metrics/sessions`` read for the whole days of their window instead of every session, turn and
rating (``cxinbox.studio.metric_days``).

Database triggers (revision 0229, PostgreSQL and SQLite) on ``bot_sessions``, ``bot_turns`` and
``bot_feedback`` append every change of a figure, as a signed amount for the UTC day it falls in,
to ``bot_metric_day_changes`` (an insert only: concurrent writers never wait on one another); a
periodic job folds them into ``bot_metric_days``. A figure reads both tables, so it is exact at
every moment.
"""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import Base


class BotDayMetric(enum.StrEnum):
    """What a day adds up. A session counts on the day it started, a turn on the day it was taken,
    a rating on the day it was given."""

    OPEN = "OPEN"  # sessions still open
    ESCALATED = "ESCALATED"  # sessions by closure (``BotSessionClosure``)
    RESOLVED_CONFIRMED = "RESOLVED_CONFIRMED"
    ABANDONED = "ABANDONED"
    TURNS = "TURNS"  # the sessions' finished turns (``bot_sessions.turns``)
    HELPFUL = "HELPFUL"  # ratings of 1
    NOT_HELPFUL = "NOT_HELPFUL"  # ratings of 0
    LATENCY_MS = "LATENCY_MS"  # the sum of ``bot_turns.model_latency_ms``
    LATENCY_TURNS = "LATENCY_TURNS"  # the turns that have one


class BotMetricDay(Base):
    """The folded value of one metric on one UTC day (seconds since the epoch // 86400). Written
    only by the fold and ``rebuild``."""

    __tablename__ = "bot_metric_days"
    #: the primary key's columns and the value: a window is read from the index alone
    __table_args__ = (Index("ix_bot_metric_days_covering", "organization_id", "day", "metric", "value"),)

    organization_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class BotMetricDayChange(Base):
    """One pending change of a ``BotMetricDay``, appended by the triggers. No foreign key: a deleted
    organization's rows leave their changes behind, which the fold drops."""

    __tablename__ = "bot_metric_day_changes"
    __table_args__ = (Index("ix_bot_metric_day_changes_org_day", "organization_id", "day"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    organization_id: Mapped[str] = mapped_column(String(36))
    day: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(24))
    value: Mapped[int] = mapped_column(BigInteger)
