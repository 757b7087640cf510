"""Ingestion, as background jobs that carry a document's id.

``knowledge.ingest_document``: PENDING -> PROCESSING -> READY | FAILED. The file is read and cut into
chunks in a worker thread within ``INGEST_TIMEOUT_SECONDS`` (the readers' caps bound its memory),
vectors are made when a provider is configured (outside any transaction), then the chunks replace
the document's old ones and it becomes READY in one transaction: a search never sees half a
document. A failure keeps its reason; a provider that fails leaves the document READY for full-text,
to be embedded by the sweep.

``knowledge.sweep`` (periodic) re-queues ingestion left behind by a stopped process, and embeds the
documents whose vectors are not the configured model's (a changed model re-indexes everything).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.embeddings import Embedder, EmbeddingError, embedder_for
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import Queue, job
from cxinbox.core.scheduler import periodic
from cxinbox.knowledge import vectors
from cxinbox.knowledge.chunking import Chunk, chunk_blocks
from cxinbox.knowledge.errors import UnreadableDocument
from cxinbox.knowledge.events import publish_document_updated
from cxinbox.knowledge.extract import extract
from cxinbox.knowledge.repository import chunks_changed, delete_chunks, locked_document
from cxinbox.knowledge.text import index_terms, language_of
from cxinbox.models.knowledge import DocumentStatus, KnowledgeChunk, KnowledgeDocument
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)

INGEST_TIMEOUT_SECONDS = 120.0
#: ingestion not finished after this long was left behind by a process that stopped
STALE_AFTER = timedelta(minutes=15)
#: documents one sweep queues at most (of each kind); the rest wait for the next sweep
SWEEP_BATCH = 1000


@dataclass(frozen=True)
class _Prepared:
    chunks: list[Chunk]
    search_texts: list[str]


@job("knowledge.ingest_document", queue=Queue.BULK, attempts=1)
async def ingest_document(runtime: Runtime, session: AsyncSession, document_id: str) -> None:
    async with runtime.unit_of_work() as start:
        document = await locked_document(start, document_id)
        if document is None or document.status not in (DocumentStatus.PENDING, DocumentStatus.PROCESSING):
            return
        _progress(start, document, DocumentStatus.PROCESSING, 10)
        kind, key = document.kind, document.storage_key
    try:
        data, _type = await runtime.storage.read(key)
        async with asyncio.timeout(INGEST_TIMEOUT_SECONDS):
            prepared = await asyncio.to_thread(_prepare, kind, data)
        if not prepared.chunks:
            raise UnreadableDocument("The document has no text (a scanned PDF needs OCR first)")
    except UnreadableDocument as exc:
        await _fail(runtime, document_id, str(exc))
        return
    except TimeoutError:
        await _fail(
            runtime, document_id, f"Reading the document took longer than {INGEST_TIMEOUT_SECONDS:.0f} s"
        )
        return
    except Exception as exc:
        log.exception("knowledge_ingest_failed", document_id=document_id)
        await _fail(runtime, document_id, f"The document could not be read ({type(exc).__name__})")
        return
    async with runtime.unit_of_work() as middle:
        document = await locked_document(middle, document_id)
        if document is None:
            return
        _progress(middle, document, DocumentStatus.PROCESSING, 50)
    embedder = embedder_for(runtime.settings.embeddings)
    matrix = await _embedded(embedder, [c.content for c in prepared.chunks], document_id)
    document = await locked_document(session, document_id)
    if document is None:  # deleted meanwhile
        return
    await delete_chunks(session, document)
    model_id = embedder.model_id if embedder is not None and matrix is not None else None
    session.add_all(
        KnowledgeChunk(
            organization_id=document.organization_id,
            document_id=document_id,
            index=index,
            content=chunk.content,
            token_count=chunk.token_count,
            page=chunk.page,
            heading=chunk.heading,
            search_text=search_text,
            embedding=None if matrix is None else vectors.to_bytes(matrix[index]),
            embedding_model=model_id,
        )
        for index, (chunk, search_text) in enumerate(zip(prepared.chunks, prepared.search_texts, strict=True))
    )
    document.chunk_count = len(prepared.chunks)
    document.embedding_model = model_id
    document.error = None
    _progress(session, document, DocumentStatus.READY, 100)


def _prepare(kind: str, data: bytes) -> _Prepared:
    chunks = chunk_blocks(extract(kind, data))
    language = language_of(" ".join(c.content for c in chunks[:20]))
    return _Prepared(chunks, [index_terms(c.content, language) for c in chunks])


async def _embedded(embedder: Embedder | None, texts: list[str], document_id: str) -> np.ndarray | None:
    if embedder is None:
        return None
    try:
        return await embedder.embed(texts)
    except EmbeddingError as exc:
        log.warning("knowledge_embedding_failed", document_id=document_id, error=str(exc))
        return None


async def _fail(runtime: Runtime, document_id: str, reason: str) -> None:
    async with runtime.unit_of_work() as session:
        document = await locked_document(session, document_id)
        if document is None:
            return
        await delete_chunks(session, document)
        document.error = reason[:500]
        document.chunk_count = 0
        _progress(session, document, DocumentStatus.FAILED, 100)


def _progress(
    session: AsyncSession, document: KnowledgeDocument, status: DocumentStatus, progress: int
) -> None:
    document.status = status
    document.progress = progress
    publish_document_updated(session, document)


@job("knowledge.embed_document", queue=Queue.BULK, attempts=3, backoff_seconds=5.0)
async def embed_document(runtime: Runtime, session: AsyncSession, document_id: str) -> None:
    """Make the document's vectors with the configured model (a retryable provider error retries)."""
    embedder = embedder_for(runtime.settings.embeddings)
    if embedder is None:
        return
    async with runtime.unit_of_work() as read:
        rows = (
            await read.execute(
                select(KnowledgeChunk.id, KnowledgeChunk.content)
                .where(KnowledgeChunk.document_id == document_id)
                .order_by(KnowledgeChunk.index)
            )
        ).all()
    if not rows:
        return
    try:
        matrix = await embedder.embed([content for _id, content in rows])
    except EmbeddingError as exc:
        log.warning("knowledge_embedding_failed", document_id=document_id, error=str(exc))
        if exc.retryable:
            raise
        return
    document = await locked_document(session, document_id)
    if document is None or document.status != DocumentStatus.READY:
        return
    for (chunk_id, _content), vector in zip(rows, matrix, strict=True):
        await session.execute(
            update(KnowledgeChunk)
            .where(KnowledgeChunk.id == chunk_id, KnowledgeChunk.document_id == document_id)
            .values(
                embedding=vectors.to_bytes(vector), embedding_model=embedder.model_id, updated_at=utcnow()
            )
        )
    document.embedding_model = embedder.model_id
    await chunks_changed(session, document.organization_id)


@periodic(every_seconds=300)
@job("knowledge.sweep", attempts=1)
async def sweep(runtime: Runtime, session: AsyncSession) -> None:
    stale = utcnow() - STALE_AFTER
    left_behind = await session.scalars(
        select(KnowledgeDocument.id)
        .where(
            KnowledgeDocument.status.in_((DocumentStatus.PENDING, DocumentStatus.PROCESSING)),
            KnowledgeDocument.updated_at < stale,
        )
        .order_by(KnowledgeDocument.updated_at)
        .limit(SWEEP_BATCH)
    )
    for document_id in left_behind.all():
        await runtime.jobs.kick(ingest_document.job_name, {"document_id": document_id})
    embedder = embedder_for(runtime.settings.embeddings)
    if embedder is None:
        return
    to_embed = await session.scalars(
        select(KnowledgeDocument.id)
        .where(
            KnowledgeDocument.status == DocumentStatus.READY,
            KnowledgeDocument.embedding_model.is_distinct_from(embedder.model_id),
        )
        .order_by(KnowledgeDocument.updated_at)
        .limit(SWEEP_BATCH)
    )
    for document_id in to_embed.all():
        await runtime.jobs.kick(embed_document.job_name, {"document_id": document_id})


def needs_reindex(document: KnowledgeDocument, model_id: str | None) -> bool:
    return (
        model_id is not None
        and document.status == DocumentStatus.READY
        and document.embedding_model != model_id
    )


async def remove_document(session: AsyncSession, document: KnowledgeDocument) -> None:
    """Delete the document and its chunks (explicitly: the full-text triggers see each one go)."""
    await delete_chunks(session, document)
    await session.delete(document)
    await session.flush()
