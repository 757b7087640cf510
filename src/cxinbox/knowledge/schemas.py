from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, examples
from cxinbox.models.knowledge import DocumentStatus

MAX_QUERY_CHARS = 2000
MAX_TOP_K = 20


class DocumentOut(ApiModel):
    model_config = examples(
        {
            "id": "0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b",
            "filename": "politica-devoluciones.pdf",
            "title": "Política de devoluciones",
            "mimeType": "application/pdf",
            "size": 48213,
            "status": "READY",
            "progress": 100,
            "chunkCount": 12,
            "error": None,
            "needsReindex": False,
            "createdAt": "2026-12-07T10:00:00Z",
            "updatedAt": "2026-12-07T10:00:04Z",
        }
    )

    id: str
    filename: str
    title: str | None
    mime_type: str
    size: int
    status: DocumentStatus
    progress: int = Field(description="Addition: 0-100 while PROCESSING")
    chunk_count: int = Field(description="Addition: chunks made from it")
    error: str | None = Field(description="Addition: why it FAILED")
    needs_reindex: bool = Field(
        description="Addition: its chunks' vectors are not the configured embedding model's"
    )
    created_at: datetime
    updated_at: datetime


class DocumentStatusOut(ApiModel):
    status: DocumentStatus
    progress: int
    chunk_count: int
    error: str | None


class ChunkOut(ApiModel):
    id: str
    index: int
    content: str
    token_count: int = Field(description="An estimate: words and punctuation marks")
    page: int | None = Field(description="The page (PDF) it starts on, from 1")
    heading: str | None = Field(description="Addition: its section (headings joined by ' > ') or sheet")


class TestRagRequest(RequestModel):
    model_config = examples({"query": "¿Cuánto tarda en llegar mi pedido?", "topK": 5})

    query: Annotated[str, NonBlank] = Field(
        min_length=1, max_length=MAX_QUERY_CHARS, description="The question (required, not blank)"
    )
    top_k: int = Field(5, ge=1, le=MAX_TOP_K)


class RagResult(ApiModel):
    chunk_id: str
    document_id: str
    document_name: str
    content: str
    score: float = Field(description="Reciprocal-rank fusion of the full-text and vector rankings")
    page: int | None = Field(description="Addition: the page (PDF) the chunk starts on")


class RagAnswer(ApiModel):
    results: list[RagResult]
    latency_ms: float
    mode: str = Field(description="Addition: `hybrid` when embeddings took part, else `fulltext`")


class EmbeddingInfo(ApiModel):
    provider: str | None = Field(description="OPENAI, GOOGLE, LOCAL, or null: full-text retrieval only")
    model: str | None
    dimensions: int | None = Field(description="Of the stored vectors; null before any")
    documents: int
    chunks: int
    needs_reindex: bool = Field(
        description="Some READY document's vectors are not the configured model's "
        "(re-indexed in the background)"
    )
    documents_to_reindex: int = Field(description="Addition: how many documents that is")
