"""The webhook event queue index holds unprocessed events only.

``(processed_at, received_at)`` over every event grew with history, and each event marked processed
left a dead entry in it until vacuum: under load the drain's "oldest unprocessed" read went through
hundreds of thousands of them (73 ms at 165,000 events). A partial index on ``received_at`` where
``processed_at IS NULL`` is as small as the backlog and is read in order.

Revision ID: 0201
Revises: 0200
Create Date: 2026-11-26 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0201"
down_revision: str | tuple[str, ...] | None = "0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNPROCESSED = sa.text("processed_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_whatsapp_webhook_events_pending", table_name="whatsapp_webhook_events")
    op.create_index(
        "ix_whatsapp_webhook_events_unprocessed",
        "whatsapp_webhook_events",
        ["received_at"],
        sqlite_where=UNPROCESSED,
        postgresql_where=UNPROCESSED,
    )


def downgrade() -> None:
    op.drop_index("ix_whatsapp_webhook_events_unprocessed", table_name="whatsapp_webhook_events")
    op.create_index(
        "ix_whatsapp_webhook_events_pending", "whatsapp_webhook_events", ["processed_at", "received_at"]
    )
