"""Full-text candidates of one organization, best first: SQLite FTS5 ranked by BM25, PostgreSQL
``tsvector`` ranked by ``ts_rank``. Both index the stemmed words of ``cxinbox.knowledge.text`` and
match a question's stems with OR (a question shares some words with its answer, rarely all)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: stems of one question looked up at most (a pasted page is not a question)
MAX_TERMS = 64

_SQLITE = text(
    "SELECT chunk FROM knowledge_chunks_fts WHERE knowledge_chunks_fts MATCH :query "
    "ORDER BY bm25(knowledge_chunks_fts, 0.0, 0.0, 1.0) LIMIT :limit"
)
_POSTGRESQL = text(
    "SELECT id FROM knowledge_chunks, to_tsquery('simple', :query) AS query "
    "WHERE organization_id = :organization_id AND search_fts @@ query "
    "ORDER BY ts_rank(search_fts, query, 1) DESC, id LIMIT :limit"
)


async def full_text(session: AsyncSession, organization_id: str, terms: list[str], limit: int) -> list[str]:
    """Chunk ids of ``organization_id`` that hold any of ``terms`` (stems made of word characters)."""
    terms = terms[:MAX_TERMS]
    if not terms:
        return []
    if session.get_bind().dialect.name == "postgresql":
        query = " | ".join(f"'{term}'" for term in terms)
        rows = await session.execute(
            _POSTGRESQL, {"query": query, "organization_id": organization_id, "limit": limit}
        )
        return [row[0] for row in rows]
    tenant = organization_id.replace("-", "")
    quoted = " OR ".join('"' + term + '"' for term in terms)
    query = f"tenant:{tenant} AND body:({quoted})"
    rows = await session.execute(_SQLITE, {"query": query, "limit": limit})
    return [str(uuid.UUID(hex=row[0])) for row in rows]
