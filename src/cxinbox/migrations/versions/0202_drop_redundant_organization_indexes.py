"""Drop the single-column organization_id indexes of contacts, conversations and messages.

Each of these tables has composite indexes that lead with ``organization_id`` (which serve every
lookup by organization, including the cascade when an organization is deleted), so the
single-column index only cost every insert and update.

Revision ID: 0202
Revises: 0201
Create Date: 2026-11-26 15:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0202"
down_revision: str | tuple[str, ...] | None = "0201"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contacts", "conversations", "messages")


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_organization_id", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_organization_id", table, ["organization_id"])
