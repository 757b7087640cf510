"""Bot media (files the bot sends, their Graph media ids per number) and inbox data sources.

Revision ID: 0221
Revises: 0220
Create Date: 2026-12-07 04:45:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0221"
down_revision: str | tuple[str, ...] | None = "0220"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = cxinbox.models.base.UtcDateTime(timezone=True)


def _tenant_columns(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f(f"fk_{table}_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "bot_media",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("IMAGE", "VIDEO", "AUDIO", "DOCUMENT", name="botmediakind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=500), nullable=True),
        sa.Column("uploaded_by_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_bot_media_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        *_tenant_columns("bot_media"),
    )
    op.create_index(op.f("ix_bot_media_organization_id"), "bot_media", ["organization_id"])
    op.create_table(
        "bot_media_uploads",
        sa.Column("media_id", sa.String(length=36), nullable=False),
        sa.Column("whatsapp_account_id", sa.String(length=36), nullable=False),
        sa.Column("graph_media_id", sa.String(length=128), nullable=False),
        sa.Column("uploaded_at", _TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["bot_media.id"],
            name=op.f("fk_bot_media_uploads_media_id_bot_media"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["whatsapp_account_id"],
            ["whatsapp_accounts.id"],
            name=op.f("fk_bot_media_uploads_whatsapp_account_id_whatsapp_accounts"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "media_id", "whatsapp_account_id", name=op.f("uq_bot_media_uploads_media_id_whatsapp_account_id")
        ),
        *_tenant_columns("bot_media_uploads"),
    )
    op.create_index(op.f("ix_bot_media_uploads_organization_id"), "bot_media_uploads", ["organization_id"])
    op.create_index(
        op.f("ix_bot_media_uploads_whatsapp_account_id"), "bot_media_uploads", ["whatsapp_account_id"]
    )
    op.create_table(
        "inbox_data_sources",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("cache_ttl_seconds", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_inbox_data_sources_connection_id_connections"),
            ondelete="CASCADE",
        ),
        *_tenant_columns("inbox_data_sources"),
    )
    op.create_index(op.f("ix_inbox_data_sources_organization_id"), "inbox_data_sources", ["organization_id"])
    op.create_index(op.f("ix_inbox_data_sources_connection_id"), "inbox_data_sources", ["connection_id"])


def downgrade() -> None:
    op.drop_table("inbox_data_sources")
    op.drop_table("bot_media_uploads")
    op.drop_table("bot_media")
