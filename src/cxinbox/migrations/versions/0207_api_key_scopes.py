"""What each API key may do: a list of scopes (``conversations:read``, …).

Existing keys keep NULL, which means "every area" (never key, user, invitation or credential
management, which no key may do).

Revision ID: 0207
Revises: 0209
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0207"
down_revision: str | tuple[str, ...] | None = "0209"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("scopes")
