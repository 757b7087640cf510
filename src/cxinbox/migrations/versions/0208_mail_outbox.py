"""The mail outbox: transactional email waits in a table until the mail server takes it, and an
invitation points at the email of its latest link (so whether it went out is known).

Revision ID: 0208
Revises: 0205
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0208"
down_revision: str | tuple[str, ...] | None = "0205"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("body_encrypted", sa.Text(), nullable=True),
        sa.Column(
            "state",
            sa.Enum("QUEUED", "SENDING", "SENT", "FAILED", name="mailstate", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index("ix_mail_outbox_state_next_attempt", "mail_outbox", ["state", "next_attempt_at"])
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.add_column(sa.Column("mail_id", sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_invitations_mail_id_mail_outbox"),
            "mail_outbox",
            ["mail_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.drop_constraint(op.f("fk_invitations_mail_id_mail_outbox"), type_="foreignkey")
        batch_op.drop_column("mail_id")
    op.drop_index("ix_mail_outbox_state_next_attempt", table_name="mail_outbox")
    op.drop_table("mail_outbox")
