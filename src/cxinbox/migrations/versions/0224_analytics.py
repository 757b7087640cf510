"""Analytics: the AI-query switch per organization, and the indexes that read a date range.

Revision ID: 0224
Revises: 0222
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0224"
down_revision: str | tuple[str, ...] | None = "0222"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_settings",
        sa.Column("ai_query_enabled", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_analytics_settings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_settings")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_analytics_settings_organization_id")),
    )
    op.create_index("ix_conversations_org_created_all", "conversations", ["organization_id", "created_at"])
    op.create_index("ix_conversations_org_closed", "conversations", ["organization_id", "closed_at"])
    op.create_index(
        "ix_conversation_timeline_org_created", "conversation_timeline", ["organization_id", "created_at"]
    )
    op.create_index(
        "ix_messages_org_ordered_kind",
        "messages",
        ["organization_id", "ordered_at", "direction", "sender_type", "sender_user_id"],
    )
    op.create_index(
        "ix_messages_conversation_sender",
        "messages",
        ["conversation_id", "sender_type", "sender_user_id", "ordered_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_messages_conversation_sender", table_name="messages")
    op.drop_index("ix_messages_org_ordered_kind", table_name="messages")
    op.drop_index("ix_conversation_timeline_org_created", table_name="conversation_timeline")
    op.drop_index("ix_conversations_org_closed", table_name="conversations")
    op.drop_index("ix_conversations_org_created_all", table_name="conversations")
    op.drop_table("analytics_settings")
