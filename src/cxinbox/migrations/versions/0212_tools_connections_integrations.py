"""Connections, bot tools, the customer-account integration and its lookup cache.

Revision ID: 0212
Revises: 0211
Create Date: 2026-12-07 01:46:08.888019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0212"
down_revision: str | None = "0211"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column(
            "auth_type",
            sa.Enum(
                "NONE",
                "API_KEY_HEADER",
                "API_KEY_QUERY",
                "BEARER",
                "BASIC",
                name="authtype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("header_name", sa.String(length=100), nullable=True),
        sa.Column("query_param", sa.String(length=100), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("secrets_ciphertext", sa.Text(), nullable=True),
        sa.Column("timeout_ms", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_connections_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
    )
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connections_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "integration_lookups",
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("fetched_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_integration_lookups_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_lookups")),
        sa.UniqueConstraint(
            "organization_id", "phone", name=op.f("uq_integration_lookups_organization_id_phone")
        ),
    )
    op.create_table(
        "integrations",
        sa.Column("lookup_path", sa.String(length=2048), nullable=False),
        sa.Column("result_path", sa.String(length=256), nullable=True),
        sa.Column("field_mapping", sa.JSON(), nullable=False),
        sa.Column("cache_ttl_seconds", sa.Integer(), nullable=False),
        sa.Column("default_country_code", sa.String(length=4), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column(
            "auth_type",
            sa.Enum(
                "NONE",
                "API_KEY_HEADER",
                "API_KEY_QUERY",
                "BEARER",
                "BASIC",
                name="authtype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("header_name", sa.String(length=100), nullable=True),
        sa.Column("query_param", sa.String(length=100), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("secrets_ciphertext", sa.Text(), nullable=True),
        sa.Column("timeout_ms", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_integrations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_integrations_organization_id")),
    )
    op.create_table(
        "bot_tools",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("result_path", sa.String(length=256), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("available_to_bot", sa.Boolean(), nullable=False),
        sa.Column("available_to_agents", sa.Boolean(), nullable=False),
        sa.Column("changes_data", sa.Boolean(), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_bot_tools_connection_id_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_tools_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_tools")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_bot_tools_organization_id_name")),
    )
    with op.batch_alter_table("bot_tools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_tools_connection_id"), ["connection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bot_tools_organization_id"), ["organization_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bot_tools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_tools_organization_id"))
        batch_op.drop_index(batch_op.f("ix_bot_tools_connection_id"))

    op.drop_table("bot_tools")
    op.drop_table("integrations")
    op.drop_table("integration_lookups")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connections_organization_id"))

    op.drop_table("connections")
