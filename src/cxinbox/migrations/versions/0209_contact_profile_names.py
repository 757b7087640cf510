"""A contact's WhatsApp profile name beside the name a person gave it.

Webhooks overwrote ``contacts.name`` with the profile name, also after someone renamed the contact.
``profile_name`` now keeps what WhatsApp reports and ``name_edited`` marks a name set by a person,
which webhooks leave alone. Existing names all came from profiles as far as can be told, so they are
copied to ``profile_name`` and none is marked edited.

Revision ID: 0209
Revises: 0208
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0209"
down_revision: str | tuple[str, ...] | None = "0208"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("profile_name", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("name_edited", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    op.execute("UPDATE contacts SET profile_name = name")


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("name_edited")
        batch_op.drop_column("profile_name")
