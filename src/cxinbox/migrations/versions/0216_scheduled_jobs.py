"""The job schedule: retries, delayed jobs and debounced bursts wait in a table, not in a process.

Revision ID: 0216
Revises: 0215
Create Date: 2026-12-07 01:47:25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0216"
down_revision: str | tuple[str, ...] | None = "0215"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_jobs",
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("run_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("debounce_key", sa.String(length=300), nullable=True),
        sa.Column("run_by", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_jobs")),
        sa.UniqueConstraint("debounce_key", name=op.f("uq_scheduled_jobs_debounce_key")),
    )
    op.create_index("ix_scheduled_jobs_queue_run_at", "scheduled_jobs", ["queue", "run_at"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_jobs_queue_run_at", table_name="scheduled_jobs")
    op.drop_table("scheduled_jobs")
