"""Full-text candidates of one organization, best first: SQLite FTS5 ranked by BM25, PostgreSQL
``tsvector`` ranked by ``ts_rank``. Both index the stemmed words of ``cxinbox.knowledge.text`` and
match a question's stems with OR (a question shares some words with its answer, rarely all).

Every indexed word carries its organization (``k`` + the id in hex + the stem; migration 0228), so a
question's terms match only that organization's chunks inside the index: another organization's
chunks are never read, however many of them hold the word, and SQLite's BM25 word frequencies are
the organization's own (PostgreSQL's ``ts_rank`` uses none; it ranks the chunk's plain terms). The
ids found are checked against the organization again when the chunks are read (``retrieval._hits``).
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: stems of one question looked up at most (a pasted page is not a question)
MAX_TERMS = 64

_SQLITE = text(
    "SELECT chunk FROM knowledge_chunks_fts WHERE knowledge_chunks_fts MATCH :query "
    "ORDER BY bm25(knowledge_chunks_fts, 0.0, 1.0) LIMIT :limit"
)
# matched by the organization's terms (the GIN index is on this expression, as migration 0228 wrote
# it: it must stay the same text), ranked by the chunk's plain terms; no organization_id condition,
# since the terms carry it and a planner without statistics would pick that btree index instead
_POSTGRESQL = text(
    "SELECT id FROM knowledge_chunks, to_tsquery('simple', :query) AS query "
    "WHERE to_tsvector('simple', regexp_replace(search_text, '(\\S+)', "
    "'k' || replace(organization_id, '-', '') || '\\1', 'g')) @@ to_tsquery('simple', :tenant_query) "
    "ORDER BY ts_rank(search_fts, query, 1) DESC, id LIMIT :limit"
)


async def full_text(session: AsyncSession, organization_id: str, terms: list[str], limit: int) -> list[str]:
    """Chunk ids of ``organization_id`` that hold any of ``terms`` (stems made of word characters)."""
    terms = terms[:MAX_TERMS]
    if not terms:
        return []
    prefix = "k" + organization_id.replace("-", "")
    if session.get_bind().dialect.name == "postgresql":
        query = " | ".join(f"'{term}'" for term in terms)
        tenant_query = " | ".join(f"'{prefix}{term}'" for term in terms)
        rows = await session.execute(
            _POSTGRESQL, {"query": query, "tenant_query": tenant_query, "limit": limit}
        )
        return [row[0] for row in rows]
    quoted = " OR ".join(f'"{prefix}{term}"' for term in terms)
    rows = await session.execute(_SQLITE, {"query": f"body:({quoted})", "limit": limit})
    return [str(uuid.UUID(hex=row[0])) for row in rows]
