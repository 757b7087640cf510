"""The outbox's index by number leads to its rows by time: ``(whatsapp_account_id, created_at)``.

A campaign step reads the number's messaging-tier use (distinct template recipients of the last
24 hours) and, between exact counts, what the number queued since the last one
(``campaigns.tiers``): both are now a range of this index instead of every row the number ever
sent. It replaces the index on ``whatsapp_account_id`` alone (its prefix serves what that did).

Revision ID: 0233
Revises: 0232
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0233"
down_revision: str | tuple[str, ...] | None = "0232"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD, NEW = "ix_message_outbox_whatsapp_account_id", "ix_message_outbox_account_created"


def upgrade() -> None:
    op.create_index(NEW, "message_outbox", ["whatsapp_account_id", "created_at"])
    op.drop_index(OLD, table_name="message_outbox")


def downgrade() -> None:
    op.create_index(OLD, "message_outbox", ["whatsapp_account_id"])
    op.drop_index(NEW, table_name="message_outbox")
