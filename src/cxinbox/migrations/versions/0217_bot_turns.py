"""The bot's turns (the claim that makes each customer turn answered once, and its trace), and the
config's handoffOnInjection.

Revision ID: 0217
Revises: 0218
Create Date: 2026-12-07 04:30:07.068886
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0217"
down_revision: str | None = "0218"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_configs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handoff_on_injection", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    op.create_table(
        "bot_turns",
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("bot_config_id", sa.String(length=36), nullable=True),
        sa.Column(
            "state",
            sa.Enum("RUNNING", "DONE", name="turnstate", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("lease_token", sa.String(length=36), nullable=True),
        sa.Column("lease_until", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "REPLIED",
                "HANDOFF",
                "DROPPED",
                "FAILED",
                "FORWARDED",
                name="turndecision",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("handoff_reason", sa.String(length=32), nullable=True),
        sa.Column("reply_message_id", sa.String(length=36), nullable=True),
        sa.Column("trace", sa.JSON(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_config_id"],
            ["bot_configs.id"],
            name=op.f("fk_bot_turns_bot_config_id_bot_configs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_bot_turns_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_turns_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_turns")),
        sa.UniqueConstraint(
            "conversation_id", "message_id", name=op.f("uq_bot_turns_conversation_id_message_id")
        ),
    )
    with op.batch_alter_table("bot_turns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_turns_bot_config_id"), ["bot_config_id"], unique=False)
        batch_op.create_index("ix_bot_turns_org_created", ["organization_id", "created_at"], unique=False)
        batch_op.create_index("ix_bot_turns_org_decision", ["organization_id", "decision"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bot_configs", schema=None) as batch_op:
        batch_op.drop_column("handoff_on_injection")
    with op.batch_alter_table("bot_turns", schema=None) as batch_op:
        batch_op.drop_index("ix_bot_turns_org_decision")
        batch_op.drop_index("ix_bot_turns_org_created")
        batch_op.drop_index(batch_op.f("ix_bot_turns_bot_config_id"))

    op.drop_table("bot_turns")
