"""Hybrid retrieval: full-text always, embeddings when a provider is configured, fused by reciprocal
rank (each list contributes ``1 / (RRF_K + rank)``), so neither score scale has to be calibrated.

``retrieve`` is what the bot's turn and ``test-rag`` call. A provider that fails leaves the full-text
answer (logged): a question is never lost because the embedding service is down.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.embeddings import Embedder, EmbeddingError
from cxinbox.core.tenancy import TenantContext
from cxinbox.knowledge import search, vectors
from cxinbox.knowledge.text import query_terms
from cxinbox.models.knowledge import KnowledgeChunk, KnowledgeDocument

log = structlog.get_logger(__name__)

RRF_K = 60
#: candidates each method contributes before fusion
CANDIDATES = 50


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    document_id: str
    document_name: str
    content: str
    page: int | None
    score: float


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    #: ``hybrid`` when embeddings took part, else ``fulltext``
    mode: str


async def retrieve(
    session: AsyncSession, tenant: TenantContext, embedder: Embedder | None, query: str, top_k: int
) -> Retrieval:
    organization_id = tenant.organization_id
    ranked = [await search.full_text(session, organization_id, query_terms(query), CANDIDATES)]
    mode = "fulltext"
    if embedder is not None:
        try:
            vector = (await embedder.embed([query]))[0]
        except EmbeddingError as exc:
            log.warning("knowledge_query_embedding_failed", error=str(exc))
        else:
            ranked.append(
                await vectors.nearest(session, organization_id, embedder.model_id, vector, CANDIDATES)
            )
            mode = "hybrid"
    fused = fuse(ranked)[:top_k]
    return Retrieval(await _hits(session, organization_id, fused), mode)


def fuse(rankings: list[list[str]]) -> list[tuple[str, float]]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


async def _hits(session: AsyncSession, organization_id: str, fused: list[tuple[str, float]]) -> list[Hit]:
    if not fused:
        return []
    rows = await session.execute(_HITS, {"ids": [chunk_id for chunk_id, _score in fused]})
    found = {row.id: row for row in rows if row.organization_id == organization_id}
    return [
        Hit(chunk_id, row.document_id, row.title or row.filename, row.content, row.page, round(score, 6))
        for chunk_id, score in fused
        if (row := found.get(chunk_id)) is not None
    ]


#: the chunks' columns a hit shows, with their document's name, built once. Looked up by primary key
#: alone, the organization checked on the rows: with both in the WHERE, SQLite without table
#: statistics walks the organization's index (every chunk of it) instead.
_HITS = (
    select(
        KnowledgeChunk.id,
        KnowledgeChunk.organization_id,
        KnowledgeChunk.document_id,
        KnowledgeChunk.content,
        KnowledgeChunk.page,
        KnowledgeDocument.title,
        KnowledgeDocument.filename,
    )
    .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
    .where(KnowledgeChunk.id.in_(bindparam("ids", expanding=True)))
)
