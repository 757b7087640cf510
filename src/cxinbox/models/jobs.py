"""The job schedule: background jobs that wait for their time in the database, not in a process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.core.clock import utcnow
from cxinbox.models.base import Base, IdMixin


class ScheduledJob(IdMixin, Base):
    """A job to queue at ``run_at``: a retry after a failed attempt (``attempt`` > 1, the error in
    ``last_error``), a delayed job, or the pending run of a debounced burst (``debounce_key``).

    Any worker process releases due rows to the broker (claimed with ``SKIP LOCKED`` on PostgreSQL),
    so a wait survives a restart, however long it is.
    """

    __tablename__ = "scheduled_jobs"
    __table_args__ = (Index("ix_scheduled_jobs_queue_run_at", "queue", "run_at"),)

    job: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(32))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the attempt this run will be (1: a first run)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    run_at: Mapped[datetime]
    #: a debounced job's key (the job's name and the caller's key): one pending run per key
    debounce_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    #: a debounced job runs no later than this, however long its burst goes on
    run_by: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
