"""Billing through Stripe: each organization's billing account (customer, subscription state), the
Stripe webhook events stored before they are applied, and the seats bought on top of a plan.

Revision ID: 0220
Revises: 0216
Create Date: 2026-12-07 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0220"
down_revision: str | tuple[str, ...] | None = "0216"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = cxinbox.models.base.UtcDateTime(timezone=True)
UNPROCESSED = sa.text("processed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created", UTC, nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("processed_at", UTC, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )
    op.create_index(
        "ix_stripe_events_unprocessed",
        "stripe_events",
        ["received_at"],
        sqlite_where=UNPROCESSED,
        postgresql_where=UNPROCESSED,
    )
    op.create_table(
        "billing_accounts",
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "NONE",
                "INCOMPLETE",
                "INCOMPLETE_EXPIRED",
                "TRIALING",
                "ACTIVE",
                "PAST_DUE",
                "CANCELED",
                "UNPAID",
                "PAUSED",
                name="subscriptionstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "plan",
            sa.Enum(
                "FREE", "STARTER", "PROFESSIONAL", "ENTERPRISE", name="plan", native_enum=False, length=32
            ),
            nullable=True,
        ),
        sa.Column("interval", sa.String(length=8), nullable=True),
        sa.Column("current_period_end", UTC, nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("extra_agent_blocks", sa.Integer(), nullable=False),
        sa.Column("block_size", sa.Integer(), nullable=False),
        sa.Column("state_at", UTC, nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_billing_accounts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_accounts")),
        sa.UniqueConstraint("stripe_customer_id", name=op.f("uq_billing_accounts_stripe_customer_id")),
    )
    op.create_index(
        "uq_billing_accounts_organization_id", "billing_accounts", ["organization_id"], unique=True
    )
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.add_column(sa.Column("extra_seats", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.drop_column("extra_seats")
    op.drop_index("uq_billing_accounts_organization_id", table_name="billing_accounts")
    op.drop_table("billing_accounts")
    op.drop_index("ix_stripe_events_unprocessed", table_name="stripe_events")
    op.drop_table("stripe_events")
