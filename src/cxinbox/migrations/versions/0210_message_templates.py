"""WhatsApp message templates (one live row per name and language of a WhatsApp account) and the
header files uploaded for them (served under a random public id).

Revision ID: 0210
Revises: 0207
Create Date: 2026-12-07 01:49:23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0210"
down_revision: str | None = "0207"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("whatsapp_account_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "MARKETING",
                "UTILITY",
                "AUTHENTICATION",
                name="templatecategory",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "DRAFT",
                "PENDING",
                "APPROVED",
                "REJECTED",
                "PAUSED",
                "DISABLED",
                "ARCHIVED",
                "IN_APPEAL",
                "PENDING_DELETION",
                "LIMIT_EXCEEDED",
                "FLAGGED",
                "LOCKED",
                "REMOVED",
                "UNKNOWN",
                name="templatestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("meta_status", sa.String(length=64), nullable=True),
        sa.Column(
            "quality_score",
            sa.Enum("GREEN", "YELLOW", "RED", "UNKNOWN", name="qualityscore", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("rejected_reason", sa.Text(), nullable=True),
        sa.Column("meta_template_id", sa.String(length=64), nullable=True),
        sa.Column("last_synced_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_message_templates_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_message_templates_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["whatsapp_account_id"],
            ["whatsapp_accounts.id"],
            name=op.f("fk_message_templates_whatsapp_account_id_whatsapp_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint(
            "organization_id",
            "meta_template_id",
            name=op.f("uq_message_templates_organization_id_meta_template_id"),
        ),
    )
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_templates_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_message_templates_whatsapp_account_id"), ["whatsapp_account_id"], unique=False
        )
        batch_op.create_index(
            "uq_message_templates_live_name",
            ["whatsapp_account_id", "name", "language"],
            unique=True,
            sqlite_where=sa.text("status != 'REMOVED'"),
            postgresql_where=sa.text("status != 'REMOVED'"),
        )

    op.create_table(
        "template_media",
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("handle", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_template_media_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_template_media_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_media")),
        sa.UniqueConstraint("public_id", name=op.f("uq_template_media_public_id")),
    )
    with op.batch_alter_table("template_media", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_template_media_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("template_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_media_organization_id"))

    op.drop_table("template_media")
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_message_templates_live_name",
            sqlite_where=sa.text("status != 'REMOVED'"),
            postgresql_where=sa.text("status != 'REMOVED'"),
        )
        batch_op.drop_index(batch_op.f("ix_message_templates_whatsapp_account_id"))
        batch_op.drop_index(batch_op.f("ix_message_templates_organization_id"))

    op.drop_table("message_templates")
