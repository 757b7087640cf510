"""The knowledge base: documents an organization uploads, and the chunks the bot retrieves from.

Full-text search is not declared here: on SQLite the FTS5 table ``knowledge_chunks_fts`` (filled by
triggers), on PostgreSQL the generated ``tsvector`` column ``search_fts`` (what is ranked) and a GIN
index on the same words prefixed by the organization (what is matched). Both index ``search_text``,
the chunk's words already stemmed by ``cxinbox.knowledge.text``, each word prefixed by its
organization (``cxinbox.knowledge.search``), so the two databases match the same words and only the
organization's own. The migrations (0214, 0228) create them by hand.
"""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class DocumentStatus(enum.Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


class KnowledgeDocument(TenantModel):
    __tablename__ = "knowledge_documents"
    __table_args__ = (UniqueConstraint("organization_id", "sha256"),)
    organization_id_indexed = False  # the unique constraint leads with it

    filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(200))
    #: what the content was recognised as: pdf, docx, xlsx, csv, txt, md
    kind: Mapped[str] = mapped_column(String(8))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500))
    status: Mapped[DocumentStatus] = mapped_column(default=DocumentStatus.PENDING)
    #: 0-100 while PROCESSING
    progress: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    #: why it FAILED, in words a person can act on
    error: Mapped[str | None] = mapped_column(String(500))
    #: ``PROVIDER:model`` its chunks' vectors were made with; None: full-text only so far. A value
    #: other than the configured model means the document needs re-indexing
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    uploaded_by_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL")
    )


class KnowledgeChunk(TenantModel):
    __tablename__ = "knowledge_chunks"
    __table_args__ = (
        UniqueConstraint("document_id", "index"),
        # loading an organization's vectors of one model
        Index("ix_knowledge_chunks_vectors", "organization_id", "embedding_model", "updated_at"),
    )
    organization_id_indexed = False  # ix_knowledge_chunks_vectors leads with it

    document_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("knowledge_documents.id", ondelete="CASCADE")
    )
    #: position in the document, from 0
    index: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    #: an estimate (words and punctuation), for budgeting a prompt
    token_count: Mapped[int] = mapped_column(Integer)
    #: the page (PDF) the chunk starts on, from 1
    page: Mapped[int | None] = mapped_column(Integer)
    #: the section (headings joined by " > ") or the sheet the chunk belongs to
    heading: Mapped[str | None] = mapped_column(String(500))
    #: the stemmed words the full-text index holds (never changes once written)
    search_text: Mapped[str] = mapped_column(Text)
    #: a float32 unit vector, ``embedding_model``'s
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(200))
