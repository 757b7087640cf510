"""Rules of the knowledge base: what an upload must be (at most ``MAX_UPLOAD_BYTES``, a PDF, DOCX,
XLSX, CSV, TXT or MD by its content, not a file the organization already has, within the plan's
``knowledgeDocuments``), listing, chunks, deletion, and what ``test-rag`` and ``embedding-info``
answer. Documents belong to the organization, shared by every bot config. Uploads and deletions are
written to the audit log."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.embeddings import embedder_for
from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.config import Settings
from cxinbox.core.db import after_commit
from cxinbox.core.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from cxinbox.core.ids import new_id
from cxinbox.core.jobs import enqueue
from cxinbox.core.pagination import PageParams, paginate
from cxinbox.files.names import safe_filename
from cxinbox.knowledge import tasks
from cxinbox.knowledge.errors import DuplicateDocument
from cxinbox.knowledge.events import publish_document_deleted, publish_document_updated
from cxinbox.knowledge.formats import recognise
from cxinbox.knowledge.repository import DocumentRepository
from cxinbox.knowledge.retrieval import retrieve
from cxinbox.knowledge.schemas import (
    ChunkOut,
    DocumentOut,
    DocumentStatusOut,
    EmbeddingInfo,
    RagAnswer,
    RagResult,
    TestRagRequest,
)
from cxinbox.models.identity import Organization
from cxinbox.models.knowledge import KnowledgeChunk, KnowledgeDocument
from cxinbox.plans.limits import KNOWLEDGE_DOCUMENTS, ensure_within_limit
from cxinbox.runtime import Runtime

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
STORAGE_PREFIX = "knowledge/"


#: a file to upload: its bytes, name and title
Upload = tuple[bytes, str | None, str | None]


async def upload(
    session: AsyncSession,
    runtime: Runtime,
    editor: Actor,
    data: bytes,
    filename: str | None,
    title: str | None,
) -> KnowledgeDocument:
    return (await upload_many(session, runtime, editor, [(data, filename, title)]))[0]


async def upload_many(
    session: AsyncSession, runtime: Runtime, editor: Actor, files: Sequence[Upload]
) -> list[KnowledgeDocument]:
    """Each file checked as one upload is, the plan limit counted once for them all and their rows
    written in one flush (a bundle's import uploads a thousand documents at once)."""
    kinds = []
    for data, filename, _ in files:
        if len(data) > MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(f"The file exceeds {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        kind = recognise(data, filename)
        if kind is None:
            raise UnsupportedMediaType("The file must be a PDF, DOCX, XLSX, CSV, TXT or Markdown document")
        kinds.append(kind)
    tenant = editor.principal.tenant
    repo = DocumentRepository(session, tenant)
    hashes = [hashlib.sha256(data).hexdigest() for data, _, _ in files]
    if len(set(hashes)) < len(hashes) or await repo.any_sha256(hashes):
        raise DuplicateDocument()
    organization = await session.get(Organization, tenant.organization_id)
    if organization is None:
        raise NotFound("Organization not found")
    await ensure_within_limit(session, organization, KNOWLEDGE_DOCUMENTS, adding=len(files))
    documents = []
    for (data, filename, title), kind, sha256 in zip(files, kinds, hashes, strict=True):
        document_id = new_id()
        documents.append(
            repo.add(
                KnowledgeDocument(
                    id=document_id,
                    filename=safe_filename(filename) or f"document.{kind.name}",
                    title=title,
                    kind=kind.name,
                    mime_type=kind.mime_type,
                    size=len(data),
                    sha256=sha256,
                    storage_key=f"{STORAGE_PREFIX}{tenant.organization_id}/{document_id}.{kind.name}",
                    uploaded_by_id=editor.principal.user_id,
                )
            )
        )
    try:
        await repo.flush()
    except IntegrityError as exc:  # the same file uploaded twice at once
        raise DuplicateDocument() from exc
    for document, (data, _, _), kind in zip(documents, files, kinds, strict=True):
        await runtime.storage.save(document.storage_key, data, kind.mime_type)
        enqueue(session, tasks.ingest_document, document_id=document.id)
        publish_document_updated(session, document)
        _audit(session, editor, "knowledge_document.created", document)
    return documents


async def delete(session: AsyncSession, runtime: Runtime, editor: Actor, document_id: str) -> None:
    """Delete the document; its chunks go with it (and out of both indexes), its file after commit."""
    repo = DocumentRepository(session, editor.principal.tenant)
    document = await repo.get_or_404(document_id)
    await tasks.remove_document(session, document)
    key = document.storage_key
    after_commit(session, lambda: runtime.storage.delete(key))
    publish_document_deleted(session, document)
    _audit(session, editor, "knowledge_document.deleted", document)


async def list_documents(
    session: AsyncSession, settings: Settings, principal: Principal
) -> list[DocumentOut]:
    documents = await DocumentRepository(session, principal.tenant).listed()
    model_id = _model_id(settings)
    return [present(d, model_id) for d in documents]


async def document_status(session: AsyncSession, principal: Principal, document_id: str) -> DocumentStatusOut:
    document = await DocumentRepository(session, principal.tenant).get_or_404(document_id)
    return DocumentStatusOut(
        status=document.status,
        progress=document.progress,
        chunk_count=document.chunk_count,
        error=document.error,
    )


async def chunks(
    session: AsyncSession, principal: Principal, document_id: str, params: PageParams
) -> tuple[list[ChunkOut], int]:
    repo = DocumentRepository(session, principal.tenant)
    await repo.get_or_404(document_id)
    rows, total = await paginate(session, repo.chunks(document_id), params)
    return [_chunk_out(c) for c in rows], total


async def test_rag(
    session: AsyncSession, settings: Settings, principal: Principal, body: TestRagRequest
) -> RagAnswer:
    started = time.perf_counter()
    found = await retrieve(
        session, principal.tenant, embedder_for(settings.embeddings), body.query, body.top_k
    )
    results = [
        RagResult(
            chunk_id=h.chunk_id,
            document_id=h.document_id,
            document_name=h.document_name,
            content=h.content,
            score=h.score,
            page=h.page,
        )
        for h in found.hits
    ]
    latency = round((time.perf_counter() - started) * 1000, 2)
    return RagAnswer(results=results, latency_ms=latency, mode=found.mode)


async def embedding_info(session: AsyncSession, settings: Settings, principal: Principal) -> EmbeddingInfo:
    configured = settings.embeddings
    model_id = _model_id(settings)
    repo = DocumentRepository(session, principal.tenant)
    documents, chunk_total, stale = await repo.totals(model_id)
    dimensions = None
    if model_id is not None:
        sample = await session.scalar(
            repo.scoped_chunks()
            .where(KnowledgeChunk.embedding_model == model_id, KnowledgeChunk.embedding.is_not(None))
            .limit(1)
        )
        dimensions = len(sample.embedding) // 4 if sample is not None and sample.embedding else None
    return EmbeddingInfo(
        provider=configured.provider if configured else None,
        model=configured.model if configured else None,
        dimensions=dimensions,
        documents=documents,
        chunks=chunk_total,
        needs_reindex=stale > 0,
        documents_to_reindex=stale,
    )


def present(document: KnowledgeDocument, model_id: str | None) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        filename=document.filename,
        title=document.title,
        mime_type=document.mime_type,
        size=document.size,
        status=document.status,
        progress=document.progress,
        chunk_count=document.chunk_count,
        error=document.error,
        needs_reindex=tasks.needs_reindex(document, model_id),
        created_at=document.created_at,
        updated_at=document.updated_at,
    )


def _model_id(settings: Settings) -> str | None:
    embedder = embedder_for(settings.embeddings)
    return embedder.model_id if embedder else None


def _chunk_out(chunk: KnowledgeChunk) -> ChunkOut:
    return ChunkOut(
        id=chunk.id,
        index=chunk.index,
        content=chunk.content,
        token_count=chunk.token_count,
        page=chunk.page,
        heading=chunk.heading,
    )


def _audit(session: AsyncSession, editor: Actor, action: str, document: KnowledgeDocument) -> None:
    editor.record(
        session,
        action,
        target_type="knowledge_document",
        target_id=document.id,
        details={"filename": document.filename, "size": document.size, "sha256": document.sha256},
    )
