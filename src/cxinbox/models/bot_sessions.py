"""Bot sessions: one stretch of a conversation in BOT_HANDLING, from entering it to leaving it.

Rows are opened and closed by database triggers on ``conversations`` (revision 0223), whichever
code moves the status (a status-machine move, a conversation created with the bot, an in-place
change): entering BOT_HANDLING opens one, leaving it for OPEN or HUMAN_HANDLING closes it
ESCALATED, and closing the conversation closes it RESOLVED_CONFIRMED. The periodic job of
``cxinbox.bot.sessions`` closes ABANDONED the ones whose customer went quiet.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class BotSessionClosure(enum.StrEnum):
    ESCALATED = "ESCALATED"
    RESOLVED_CONFIRMED = "RESOLVED_CONFIRMED"
    ABANDONED = "ABANDONED"


class BotSession(TenantModel):
    """At most one open session (``ended_at`` null) per conversation: a partial unique index."""

    __tablename__ = "bot_sessions"
    organization_id_indexed = False  # ``ix_bot_sessions_org_started`` leads with it
    __table_args__ = (
        Index(
            "uq_bot_sessions_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        # the order of ``metrics/sessions`` (newest first, by id on a tie), without and with its filter
        Index("ix_bot_sessions_org_started", "organization_id", "started_at", "id"),
        Index("ix_bot_sessions_org_closure_started", "organization_id", "closure_type", "started_at", "id"),
        Index("ix_bot_sessions_conversation_started", "conversation_id", "started_at"),
        Index(
            "ix_bot_sessions_open_started",
            "started_at",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    conversation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    #: the organization's active config when the session opened (null: none was active)
    bot_config_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("bot_configs.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    closure_type: Mapped[BotSessionClosure | None]
    #: finished bot turns taken on the conversation while the session was open, kept by triggers on
    #: ``bot_turns`` and ``bot_sessions`` (revision 0225) so the metrics read a column, not the turns
    turns: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    #: what the agent who returned the conversation to the bot wrote for it (``return-to-bot``)
    handoff_summary: Mapped[str | None] = mapped_column(Text)
    returned_by_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL")
    )
