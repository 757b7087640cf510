"""Campaigns and their recipients (one row per normalised number of a campaign, claimed by the
dispatcher with a compare-and-set of its status).

Revision ID: 0215
Revises: 0214
Create Date: 2026-12-07 02:54:36.081812
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0215"
down_revision: str | None = "0214"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("template_id", sa.String(length=36), nullable=True),
        sa.Column("whatsapp_account_id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "SCHEDULED",
                "RUNNING",
                "PAUSED",
                "COMPLETED",
                "CANCELLED",
                "FAILED",
                name="campaignstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.String(length=64), nullable=True),
        sa.Column("scheduled_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("started_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("estimated_cost", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("budget", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("spent", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_campaigns_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_campaigns_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["message_templates.id"],
            name=op.f("fk_campaigns_template_id_message_templates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["whatsapp_account_id"],
            ["whatsapp_accounts.id"],
            name=op.f("fk_campaigns_whatsapp_account_id_whatsapp_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_org_created", ["organization_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaigns_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaigns_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaigns_template_id"), ["template_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_campaigns_whatsapp_account_id"), ["whatsapp_account_id"], unique=False
        )

    op.create_table(
        "campaign_recipients",
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "SENDING",
                "SENT",
                "DELIVERED",
                "READ",
                "FAILED",
                name="recipientstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cost", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("sent_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("read_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("replied_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_campaign_recipients_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_campaign_recipients_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_recipients")),
        sa.UniqueConstraint("campaign_id", "phone", name=op.f("uq_campaign_recipients_campaign_id_phone")),
    )
    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_recipients_claim", ["campaign_id", "status", "position"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_campaign_recipients_message_id"), ["message_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_campaign_recipients_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_recipients_organization_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_recipients_message_id"))
        batch_op.drop_index("ix_campaign_recipients_claim")

    op.drop_table("campaign_recipients")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaigns_whatsapp_account_id"))
        batch_op.drop_index(batch_op.f("ix_campaigns_template_id"))
        batch_op.drop_index(batch_op.f("ix_campaigns_status"))
        batch_op.drop_index(batch_op.f("ix_campaigns_organization_id"))
        batch_op.drop_index("ix_campaigns_org_created")

    op.drop_table("campaigns")
