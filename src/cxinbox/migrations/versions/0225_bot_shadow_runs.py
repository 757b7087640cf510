"""Bot shadow runs: a draft config replayed over recorded customer turns, and its report.

Revision ID: 0225
Revises: 0224
Create Date: 2026-12-07 07:36:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0225"
down_revision: str | tuple[str, ...] | None = "0224"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_shadow_runs",
        sa.Column("bot_config_id", sa.String(length=36), nullable=False),
        sa.Column("active_config_id", sa.String(length=36), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "QUEUED", "RUNNING", "DONE", "FAILED", name="shadowrunstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("running_key", sa.String(length=36), nullable=True),
        sa.Column("turn_ids", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["active_config_id"],
            ["bot_configs.id"],
            name=op.f("fk_bot_shadow_runs_active_config_id_bot_configs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["bot_config_id"],
            ["bot_configs.id"],
            name=op.f("fk_bot_shadow_runs_bot_config_id_bot_configs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_bot_shadow_runs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_shadow_runs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_shadow_runs")),
        sa.UniqueConstraint("running_key", name=op.f("uq_bot_shadow_runs_running_key")),
    )
    with op.batch_alter_table("bot_shadow_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bot_shadow_runs_config_created", ["bot_config_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bot_shadow_runs_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bot_shadow_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_shadow_runs_organization_id"))
        batch_op.drop_index("ix_bot_shadow_runs_config_created")

    op.drop_table("bot_shadow_runs")
