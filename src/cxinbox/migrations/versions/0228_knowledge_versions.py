"""The knowledge base's change counter per organization (what tells a cached vector matrix is stale).

Revision ID: 0228
Revises: 0224
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0228"
down_revision: str | tuple[str, ...] | None = "0224"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_versions",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_knowledge_versions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_versions")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_knowledge_versions_organization_id")),
    )


def downgrade() -> None:
    op.drop_table("knowledge_versions")
