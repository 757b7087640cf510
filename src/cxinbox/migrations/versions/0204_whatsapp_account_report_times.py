"""When Meta last reported each field of a WhatsApp account (quality, messaging limit, name, state).

Account webhooks arrive in any order: the time of the report that set a field lets an older report
that arrives later leave the field alone.

Revision ID: 0204
Revises: 0203
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0204"
down_revision: str | tuple[str, ...] | None = "0203"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_accounts") as batch_op:
        batch_op.add_column(sa.Column("report_times", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_accounts") as batch_op:
        batch_op.drop_column("report_times")
