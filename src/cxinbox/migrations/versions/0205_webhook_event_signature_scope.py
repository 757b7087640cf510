"""The signature scope of a stored webhook body: the phone numbers whose signer signed it.

A tenant's own app secret vouches for its own numbers only; processing skips every change about
another number. Rows stored before this revision keep an empty scope and are taken as signed by
the platform's app.

Revision ID: 0205
Revises: 0204
Create Date: 2026-12-06 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0205"
down_revision: str | tuple[str, ...] | None = "0204"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_webhook_events") as batch_op:
        batch_op.add_column(sa.Column("signature_scope", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_webhook_events") as batch_op:
        batch_op.drop_column("signature_scope")
