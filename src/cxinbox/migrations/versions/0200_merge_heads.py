"""One head again: the areas of the first release were built on branches from 0002 and 0105.

Revision ID: 0200
Revises: 0102, 0103, 0104, 0106, 0107, 0108
Create Date: 2026-11-26 13:27:01.217646
"""

from collections.abc import Sequence

revision: str = "0200"
down_revision: str | tuple[str, ...] | None = ("0102", "0103", "0104", "0106", "0107", "0108")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
