"""The bot's turns: one row per customer turn the bot answers (or a sandbox turn), which is both the
claim that makes the answer happen once and the turn's trace.

A turn of a conversation is keyed by the last customer message it answers (unique with the
conversation), so a redelivered webhook, a retried job or two workers end at the same row. The row
is claimed with a lease: a worker that dies mid-turn leaves a lease that expires, and the turn is
taken again; the reply is queued in the same transaction that marks the row DONE, so a reply in the
outbox is never queued twice.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class TurnState(enum.StrEnum):
    RUNNING = "RUNNING"
    DONE = "DONE"


class TurnDecision(enum.StrEnum):
    REPLIED = "REPLIED"
    HANDOFF = "HANDOFF"
    #: the reply was ready but the conversation was no longer the bot's
    DROPPED = "DROPPED"
    FAILED = "FAILED"
    #: an N8N config's turn, posted to its workflow (which answers through its callback)
    FORWARDED = "FORWARDED"


class BotTurn(TenantModel):
    __tablename__ = "bot_turns"
    __table_args__ = (
        UniqueConstraint("conversation_id", "message_id"),
        Index("ix_bot_turns_org_created", "organization_id", "created_at"),
        Index("ix_bot_turns_org_decision", "organization_id", "decision"),
        Index(
            "ix_bot_turns_org_model_latency",
            "organization_id",
            "created_at",
            "model_latency_ms",
            sqlite_where=text("model_latency_ms IS NOT NULL"),
            postgresql_where=text("model_latency_ms IS NOT NULL"),
        ),
    )
    organization_id_indexed = False

    #: null for a sandbox turn
    conversation_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    #: the last customer message the turn answers (null for a sandbox turn)
    message_id: Mapped[str | None] = mapped_column(String(36))
    bot_config_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("bot_configs.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[TurnState] = mapped_column(default=TurnState.RUNNING)
    #: who holds the turn (a new token per claim) and until when
    lease_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None] = mapped_column()
    #: provider calls that failed so far (a retryable failure is retried, then handed off)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[TurnDecision | None] = mapped_column()
    handoff_reason: Mapped[str | None] = mapped_column(String(32))
    reply_message_id: Mapped[str | None] = mapped_column(String(36))
    #: what the turn did: prompt size, retrieval, LLM calls, tools, the decision's details
    trace: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: the trace's ``latencyMs`` of a finished conversation turn that called the model, else null: set
    #: by triggers (revision 0225) so the quality metrics' mean reads an index, not every trace
    model_latency_ms: Mapped[int | None] = mapped_column(Integer)
