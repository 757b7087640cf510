"""Analytics rollups: what the figures read instead of scanning conversations and messages.

Database triggers (revision 0227, PostgreSQL and SQLite) keep them current whoever writes the
inbox's rows, so the write path costs a statement or two per event and no code path can forget them:

- ``conversation_facts``: one narrow row per conversation, the columns the figures filter and group
  by (creation, closing, status, category, team, origin) and what its messages and timeline tell
  (the customer's first message, the first reply after it, whether the bot spoke, left or handed
  off). Set when the conversation is inserted, changed only when one of those changes.
- ``assignment_facts``: one row per assignment in the timeline, with the assignee's first message
  after it.
- ``analytics_slot_changes``: every event that a series counts, appended as +1/-1 for its
  15-minute UTC slot (an insert only: concurrent writers never wait on one another), folded by a
  periodic job into ``analytics_slot_counts``. A count reads both tables, so it is exact at every
  moment; a range reads at most 96 slots a day per metric instead of every message.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import Base


class SlotMetric(enum.StrEnum):
    """What a slot counts; ``key`` says for whom where it is per person (``''`` otherwise)."""

    NEW = "NEW"  # conversations created
    CLOSED = "CLOSED"  # conversations closed (by ``closed_at``) and still CLOSED; key: the assignee
    CLOSED_TOTAL = "CLOSED_TOTAL"  # CLOSED summed over the assignees (revision 0231): what a series reads
    INBOUND = "INBOUND"  # messages from customers
    OUTBOUND = "OUTBOUND"  # messages to customers
    AGENT = "AGENT"  # messages an agent sent; key: the agent


class ConversationFact(Base):
    """A conversation as the figures see it. Written only by the triggers."""

    __tablename__ = "conversation_facts"
    #: PostgreSQL reads a range's figures from the index alone (revision 0230)
    __table_args__ = (
        Index(
            "ix_conversation_facts_created_covering",
            "organization_id",
            "created_at",
            postgresql_include=[
                "first_customer_at",
                "first_reply_at",
                "status",
                "bot_spoke",
                "left_bot",
                "handed_off",
                "category",
                "team_id",
                "origin",
            ],
        ),
        Index(
            "ix_conversation_facts_closed_covering",
            "organization_id",
            "closed_at",
            postgresql_include=["created_at", "status"],
        ),
    )

    conversation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(36))
    origin: Mapped[str] = mapped_column(String(32))
    #: the customer's first message (by ``ordered_at``)
    first_customer_at: Mapped[datetime | None]
    #: the first agent or bot message at or after ``first_customer_at``
    first_reply_at: Mapped[datetime | None]
    bot_spoke: Mapped[bool] = mapped_column(default=False)
    #: the status ever moved away from BOT_HANDLING (the timeline says so)
    left_bot: Mapped[bool] = mapped_column(default=False)
    #: ... to HUMAN_HANDLING or OPEN
    handed_off: Mapped[bool] = mapped_column(default=False)


class AssignmentFact(Base):
    """An assignment of the timeline, and the assignee's first message in the conversation after it.
    Written only by the triggers."""

    __tablename__ = "assignment_facts"
    __table_args__ = (
        Index(
            "ix_assignment_facts_assigned_covering",
            "organization_id",
            "assigned_at",
            "user_id",
            postgresql_include=["answered_at"],
        ),
        Index("ix_assignment_facts_conversation_user", "conversation_id", "user_id"),
    )

    timeline_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversation_timeline.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[str] = mapped_column(String(36))
    conversation_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class AnalyticsSlotCount(Base):
    """The folded count of one metric in one 15-minute UTC slot (seconds since the epoch // 900).
    Written only by the fold."""

    __tablename__ = "analytics_slot_counts"
    #: the primary key's columns and the count: a range is read from the index alone
    __table_args__ = (
        Index("ix_analytics_slot_counts_covering", "organization_id", "metric", "slot", "key", "count"),
    )

    organization_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class AnalyticsSlotChange(Base):
    """One pending +1/-1 of an ``AnalyticsSlotCount``, appended by the triggers. No foreign key: a
    deleted organization's rows leave their changes behind, which the fold drops."""

    __tablename__ = "analytics_slot_changes"
    __table_args__ = (
        Index("ix_analytics_slot_changes_org_metric_slot", "organization_id", "metric", "slot"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    organization_id: Mapped[str] = mapped_column(String(36))
    metric: Mapped[str] = mapped_column(String(16))
    slot: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
