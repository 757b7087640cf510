"""A person's chosen language (the web console speaks it).

Revision ID: 0222
Revises: 0223
Create Date: 2026-12-07 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0222"
down_revision: str | tuple[str, ...] | None = "0223"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "language", sa.Enum("en", "es", name="language", native_enum=False, length=32), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
