"""Shadow runs: a draft bot config run over the organization's recorded customer turns, nothing sent,
its answers set beside what the active config answered then (``cxinbox.studio.shadow``)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class ShadowRunStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class ShadowRun(TenantModel):
    __tablename__ = "bot_shadow_runs"
    __table_args__ = (Index("ix_bot_shadow_runs_config_created", "bot_config_id", "created_at"),)

    #: the config run in the shadow (usually a draft)
    bot_config_id: Mapped[str] = mapped_column(String(36), ForeignKey("bot_configs.id", ondelete="CASCADE"))
    #: the config whose recorded turns are compared (the active one when the run was asked for)
    active_config_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("bot_configs.id", ondelete="SET NULL")
    )
    status: Mapped[ShadowRunStatus] = mapped_column(default=ShadowRunStatus.QUEUED)
    #: the config's id while the run is QUEUED or RUNNING, else null: unique, so a config has at most
    #: one unfinished run, whichever process asks
    running_key: Mapped[str | None] = mapped_column(String(36), unique=True)
    #: the recorded turns to replay (``bot_turns`` ids, newest first), chosen when the run was asked for
    turn_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: turns replayed so far
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: ``{turns: [...], totals: {...}}`` (``studio.shadow_report``)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))
