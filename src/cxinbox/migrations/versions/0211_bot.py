"""The bot: its configs (at most one active per organization), their intents, its monthly usage,
the N8N answers taken, and the writing assist's organization settings and per-user switch.

Revision ID: 0211
Revises: 0210
Create Date: 2026-12-07 01:46:11
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0211"
down_revision: str | None = "0210"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_usage",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("bot_replies", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_usage_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", "period", name=op.f("pk_bot_usage")),
    )
    op.create_table(
        "writing_assist_settings",
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("use_bot_config", sa.Boolean(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("max_tokens", sa.Integer(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_writing_assist_settings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writing_assist_settings")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_writing_assist_settings_organization_id")),
    )
    op.create_table(
        "bot_configs",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("max_tokens", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "mode", sa.Enum("LLM", "N8N", name="botmode", native_enum=False, length=32), nullable=False
        ),
        sa.Column("n8n_webhook_url", sa.String(length=500), nullable=True),
        sa.Column("n8n_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("debounce_seconds", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_bot_configs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_configs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_configs")),
    )
    with op.batch_alter_table("bot_configs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_configs_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(
            "uq_bot_configs_active",
            ["organization_id"],
            unique=True,
            postgresql_where=sa.text("is_active"),
            sqlite_where=sa.text("is_active"),
        )

    op.create_table(
        "writing_assist_preferences",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_writing_assist_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_writing_assist_preferences")),
    )
    op.create_table(
        "bot_intents",
        sa.Column("bot_config_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column(
            "action",
            sa.Enum("REPLY", "MEDIA", "HANDOFF", "TOOL", name="intentaction", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("media_ids", sa.JSON(), nullable=False),
        sa.Column("tool_id", sa.String(length=36), nullable=True),
        sa.Column("handoff_team_id", sa.String(length=36), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_config_id"],
            ["bot_configs.id"],
            name=op.f("fk_bot_intents_bot_config_id_bot_configs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["handoff_team_id"],
            ["teams.id"],
            name=op.f("fk_bot_intents_handoff_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_intents_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_intents")),
    )
    with op.batch_alter_table("bot_intents", schema=None) as batch_op:
        batch_op.create_index("ix_bot_intents_config_order", ["bot_config_id", "order"], unique=False)
        batch_op.create_index(batch_op.f("ix_bot_intents_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "bot_sandbox_sessions",
        sa.Column("bot_config_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("turns", sa.JSON(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_config_id"],
            ["bot_configs.id"],
            name=op.f("fk_bot_sandbox_sessions_bot_config_id_bot_configs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bot_sandbox_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_sandbox_sessions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_sandbox_sessions")),
    )
    with op.batch_alter_table("bot_sandbox_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bot_sandbox_sessions_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "bot_n8n_callbacks",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("sent_message_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_n8n_callbacks_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", "message_id", name=op.f("pk_bot_n8n_callbacks")),
    )


def downgrade() -> None:
    op.drop_table("bot_n8n_callbacks")
    with op.batch_alter_table("bot_sandbox_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_sandbox_sessions_organization_id"))
    op.drop_table("bot_sandbox_sessions")
    with op.batch_alter_table("bot_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_intents_organization_id"))
        batch_op.drop_index("ix_bot_intents_config_order")

    op.drop_table("bot_intents")
    op.drop_table("writing_assist_preferences")
    with op.batch_alter_table("bot_configs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bot_configs_active", postgresql_where=sa.text("is_active"), sqlite_where=sa.text("is_active")
        )
        batch_op.drop_index(batch_op.f("ix_bot_configs_organization_id"))

    op.drop_table("bot_configs")
    op.drop_table("writing_assist_settings")
    op.drop_table("bot_usage")
