"""The knowledge base's change counter per organization (what tells a cached vector matrix is stale),
and full-text terms that carry their organization.

Each word of a chunk is indexed as ``k`` + its organization's id (hex) + its stem, on SQLite (FTS5)
and PostgreSQL (``tsvector``) alike: a question's terms then match only its organization's chunks
inside the index, instead of every organization's chunks holding the word being matched and then
filtered (on SQLite by an AND with an organization token, on PostgreSQL by reading each row), and
each organization's word frequencies are its own. The index is rebuilt from ``search_text``.

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


_TERMS = "'k' || replace({row}organization_id, '-', '')"


def _sqlite_indexed(row: str) -> str:
    """Each word of ``search_text`` after its organization's prefix (``row``: ``new.`` in a trigger)."""
    prefix = _TERMS.format(row=row)
    return f"{prefix} || replace({row}search_text, ' ', ' ' || {prefix})"


_DROP_SQLITE = (
    "DROP TRIGGER knowledge_chunks_fts_delete",
    "DROP TRIGGER knowledge_chunks_fts_insert",
    "DROP TABLE knowledge_chunks_fts",
)
_DELETE_TRIGGER = (
    "CREATE TRIGGER knowledge_chunks_fts_delete AFTER DELETE ON knowledge_chunks BEGIN "
    "DELETE FROM knowledge_chunks_fts WHERE knowledge_chunks_fts MATCH "
    "'chunk:' || replace(old.id, '-', ''); END"
)
_SQLITE_TENANT_TERMS = (
    *_DROP_SQLITE,
    "CREATE VIRTUAL TABLE knowledge_chunks_fts USING fts5(chunk, body, tokenize='unicode61')",
    "CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks BEGIN "
    "INSERT INTO knowledge_chunks_fts (chunk, body) VALUES "
    f"(replace(new.id, '-', ''), {_sqlite_indexed('new.')}); END",
    _DELETE_TRIGGER,
    f"INSERT INTO knowledge_chunks_fts (chunk, body) SELECT replace(id, '-', ''), {_sqlite_indexed('')} "
    "FROM knowledge_chunks",
)
_SQLITE_TENANT_COLUMN = (
    *_DROP_SQLITE,
    "CREATE VIRTUAL TABLE knowledge_chunks_fts USING fts5(tenant, chunk, body, tokenize='unicode61')",
    "CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks BEGIN "
    "INSERT INTO knowledge_chunks_fts (tenant, chunk, body) VALUES "
    "(replace(new.organization_id, '-', ''), replace(new.id, '-', ''), new.search_text); END",
    _DELETE_TRIGGER,
    "INSERT INTO knowledge_chunks_fts (tenant, chunk, body) SELECT replace(organization_id, '-', ''), "
    "replace(id, '-', ''), search_text FROM knowledge_chunks",
)


#: PostgreSQL keeps ranking the plain ``search_fts`` (short, stored in the row); only the GIN index is
#: of the organization's terms (an expression index: a stored column of them would be six times as
#: large, pushed out of the row, and read back for every chunk ranked)
TENANT_TERMS_POSTGRESQL = (
    "to_tsvector('simple', regexp_replace(search_text, '(\\S+)', "
    + _TERMS.format(row="")
    + " || '\\1', 'g'))"
)
_POSTGRESQL_TENANT_TERMS = (
    "DROP INDEX ix_knowledge_chunks_search_fts",
    "CREATE INDEX ix_knowledge_chunks_search_fts ON knowledge_chunks "
    f"USING gin (({TENANT_TERMS_POSTGRESQL}))",
)
_POSTGRESQL_PLAIN_TERMS = (
    "DROP INDEX ix_knowledge_chunks_search_fts",
    "CREATE INDEX ix_knowledge_chunks_search_fts ON knowledge_chunks USING gin (search_fts)",
)


def _run(sqlite: tuple[str, ...], postgresql: tuple[str, ...]) -> None:
    for statement in sqlite if op.get_context().dialect.name == "sqlite" else postgresql:
        op.execute(statement)


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
    _run(_SQLITE_TENANT_TERMS, _POSTGRESQL_TENANT_TERMS)


def downgrade() -> None:
    _run(_SQLITE_TENANT_COLUMN, _POSTGRESQL_PLAIN_TERMS)
    op.drop_table("knowledge_versions")
