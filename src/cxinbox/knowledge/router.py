from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import AdminDep, ReadSessionDep, RuntimeDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.pagination import PageParams, page_params
from cxinbox.core.wire import Deleted, Envelope, PageEnvelope
from cxinbox.knowledge import service
from cxinbox.knowledge.schemas import (
    ChunkOut,
    DocumentOut,
    DocumentStatusOut,
    EmbeddingInfo,
    RagAnswer,
    TestRagRequest,
)
from cxinbox.models.identity import Role

router = APIRouter(prefix="/bot-config", tags=["knowledge-base"], dependencies=[key_scope(Area.SETTINGS)])

_ADMIN = "Admins only (403 otherwise)."
_READERS = "Admins and supervisors."
#: who changes the knowledge base: an admin, written to the audit log with their address
EditorDep = Annotated[Actor, Depends(acting_as(Role.ADMIN))]
PageDep = Annotated[PageParams, Depends(page_params)]
_MB = service.MAX_UPLOAD_BYTES // (1024 * 1024)


@router.get(
    "/documents",
    summary="List knowledge base documents",
    description=f"The organization's documents (shared by every bot config), newest first. {_READERS}",
)
async def list_documents(
    principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[list[DocumentOut]]:
    return Envelope(data=await service.list_documents(session, runtime.settings, principal))


@router.post(
    "/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document to the knowledge base",
    description=f"Multipart field `file` (+ optional `title`): a PDF, DOCX, XLSX, CSV, TXT or Markdown "
    f"file, recognised by its content (415 otherwise), at most {_MB} MB (413). The same file twice "
    "answers 409 `DUPLICATE_DOCUMENT`; past the plan's `knowledgeDocuments`, 402. Answers the document "
    "`PENDING`: a background job reads it (`PROCESSING`, `document.updated` events with its progress) "
    f"into chunks, `READY`, or `FAILED` with its `error`. {_ADMIN}",
    responses={
        402: {"description": "Plan limit reached"},
        409: {"description": "Duplicate document"},
        413: {"description": "Too large"},
        415: {"description": "Not a supported document"},
    },
)
async def upload_document(
    file: Annotated[UploadFile, File(description="The document")],
    editor: EditorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    title: Annotated[str | None, Form(max_length=200, description="A name for the bot to cite")] = None,
) -> Envelope[DocumentOut]:
    data = await file.read(service.MAX_UPLOAD_BYTES + 1)
    clean_title = title.strip() if title and title.strip() else None
    document = await service.upload(session, runtime, editor, data, file.filename, clean_title)
    return Envelope(data=service.present(document, None))


@router.delete("/documents/{id}", summary="Delete a document and its chunks", description=_ADMIN)
async def delete_document(
    id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[Deleted]:
    await service.delete(session, runtime, editor, id)
    return Envelope(data=Deleted(id=id))


@router.get(
    "/documents/{id}/status",
    summary="Get document processing status",
    description=f"`{{status, progress, chunkCount, error}}`. {_READERS}",
)
async def document_status(
    id: str, principal: SupervisorDep, session: ReadSessionDep
) -> Envelope[DocumentStatusOut]:
    return Envelope(data=await service.document_status(session, principal, id))


@router.get(
    "/documents/{id}/chunks",
    summary="Get chunks for a document",
    description=f"In document order, paged with `page`/`limit`. {_READERS}",
)
async def document_chunks(
    id: str, principal: SupervisorDep, session: ReadSessionDep, paging: PageDep
) -> PageEnvelope[ChunkOut]:
    items, total = await service.chunks(session, principal, id, paging)
    return PageEnvelope(data=items, meta=paging.meta(total))


@router.post(
    "/test-rag",
    summary="Test RAG query",
    description="The chunks the bot would be given for `query` (required, not blank), best first: "
    "full-text search, fused with embedding search when an embedding provider is configured. "
    f"{_ADMIN}",
)
async def test_rag(
    body: TestRagRequest, principal: AdminDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[RagAnswer]:
    return Envelope(data=await service.test_rag(session, runtime.settings, principal, body))


@router.get(
    "/embedding-info",
    summary="Get embedding model information",
    description="The configured provider and model (`CXINBOX_EMBEDDINGS_PROVIDER`/`MODEL`; none: "
    "full-text only), the stored vectors' dimensions, the organization's documents and chunks, and "
    f"whether documents wait for re-indexing after a model change. {_READERS}",
)
async def embedding_info(
    principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[EmbeddingInfo]:
    return Envelope(data=await service.embedding_info(session, runtime.settings, principal))
