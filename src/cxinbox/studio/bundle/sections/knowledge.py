"""``knowledge``: the organization's documents (shared by every config) with their text (a TXT, MD
or CSV document's own content, else its chunks joined in order); ``full`` adds the chunks, and a
``full`` ZIP the original files (``files/<sha256>``).

Import adds each document the organization does not have yet (by the original's SHA-256) through
the knowledge base's own upload, all in one (its checks and plan limit apply): the original file when the ZIP
holds it, else the text as a TXT document. Ingestion then re-chunks it with the importing
organization's settings, so the bundle's chunks are not written as they are."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import PurePosixPath
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from sqlalchemy import select

from cxinbox.core.wire import RequestModel
from cxinbox.knowledge import service
from cxinbox.models.knowledge import KnowledgeChunk, KnowledgeDocument
from cxinbox.studio.bundle.archive import FILES_PREFIX
from cxinbox.studio.bundle.registry import ExportContext, ImportContext, Section, Tier

MAX_DOCUMENTS = 5_000
TEXT_KINDS = {"txt", "md", "csv"}


class BundleChunk(RequestModel):
    index: Annotated[int, Field(ge=0)]
    content: Annotated[str, Field(max_length=100_000)]
    page: int | None = None
    heading: Annotated[str, Field(max_length=500)] | None = None


class BundleDocument(RequestModel):
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    title: Annotated[str, Field(max_length=200)] | None = None
    kind: Annotated[str, Field(max_length=8)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    text: Annotated[str, Field(max_length=service.MAX_UPLOAD_BYTES)]
    chunks: list[BundleChunk] | None = None


class BundleKnowledge(RequestModel):
    documents: Annotated[list[BundleDocument], Field(max_length=MAX_DOCUMENTS)]


_KNOWLEDGE = TypeAdapter(BundleKnowledge)


async def export_knowledge(ctx: ExportContext) -> dict[str, Any]:
    org = ctx.config.organization_id
    documents = list(
        await ctx.session.scalars(
            select(KnowledgeDocument)
            .where(KnowledgeDocument.organization_id == org)
            .order_by(KnowledgeDocument.created_at, KnowledgeDocument.id)
        )
    )
    chunks: dict[str, list[KnowledgeChunk]] = defaultdict(list)
    for chunk in await ctx.session.scalars(
        select(KnowledgeChunk)
        .where(KnowledgeChunk.organization_id == org)
        .order_by(KnowledgeChunk.document_id, KnowledgeChunk.index)
    ):
        chunks[chunk.document_id].append(chunk)
    full = ctx.tier.carries(Tier.FULL)
    out = []
    for document in documents:
        own = chunks[document.id]
        entry: dict[str, Any] = {
            "filename": document.filename,
            "title": document.title,
            "kind": document.kind,
            "sha256": document.sha256,
            "text": await _text(ctx, document, own),
        }
        if full:
            entry["chunks"] = [
                {"index": c.index, "content": c.content, "page": c.page, "heading": c.heading} for c in own
            ]
            if ctx.files is not None:
                ctx.files[FILES_PREFIX + document.sha256] = (
                    await ctx.runtime.storage.read(document.storage_key)
                )[0]
        out.append(entry)
    return {"documents": out}


async def _text(ctx: ExportContext, document: KnowledgeDocument, chunks: list[KnowledgeChunk]) -> str:
    """A text document's own content (imported, it is the same file again), else its chunks."""
    if document.kind in TEXT_KINDS:
        data, _ = await ctx.runtime.storage.read(document.storage_key)
        try:
            return data.decode()
        except UnicodeDecodeError:
            pass  # another encoding: the chunks' text
    return "\n\n".join(c.content for c in chunks)


def validate_knowledge(value: Any) -> BundleKnowledge:
    return _KNOWLEDGE.validate_python(value)


async def write_knowledge(ctx: ImportContext, value: BundleKnowledge) -> None:
    org = ctx.config.organization_id
    held = set(
        await ctx.session.scalars(
            select(KnowledgeDocument.sha256).where(KnowledgeDocument.organization_id == org)
        )
    )
    files: list[service.Upload] = []
    for document in value.documents:
        original = ctx.files.get(FILES_PREFIX + document.sha256)
        if original is not None and hashlib.sha256(original).hexdigest() == document.sha256:
            data, filename = original, document.filename
        else:
            data = document.text.encode()
            stem = PurePosixPath(document.filename).stem or "document"
            filename = document.filename if document.kind in TEXT_KINDS else f"{stem}.txt"
        sha256 = hashlib.sha256(data).hexdigest()
        if not data.strip() or document.sha256 in held or sha256 in held:
            continue
        files.append((data, filename, document.title))
        held.update({document.sha256, sha256})
    if files:
        await service.upload_many(ctx.session, ctx.runtime, ctx.editor, files)


SECTION = Section("knowledge", Tier.STANDARD, export_knowledge, validate_knowledge, write_knowledge)
