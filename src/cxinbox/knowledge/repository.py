from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.db import dialect_insert
from cxinbox.core.ids import new_id
from cxinbox.core.repository import TenantRepository
from cxinbox.models.knowledge import DocumentStatus, KnowledgeChunk, KnowledgeDocument
from cxinbox.models.knowledge_media import BotMedia, InboxDataSource
from cxinbox.models.knowledge_versions import KnowledgeVersion


class DocumentRepository(TenantRepository[KnowledgeDocument]):
    model = KnowledgeDocument
    not_found_message = "Document not found"

    async def listed(self) -> Sequence[KnowledgeDocument]:
        return await self.list(
            self.select().order_by(KnowledgeDocument.created_at.desc(), KnowledgeDocument.id)
        )

    async def any_sha256(self, hashes: list[str]) -> bool:
        """Whether the organization holds a document of any of ``hashes``."""
        found = await self.session.scalar(self.select().where(KnowledgeDocument.sha256.in_(hashes)).limit(1))
        return found is not None

    def chunks(self, document_id: str) -> Select[KnowledgeChunk]:
        return (
            self.scoped_chunks()
            .where(KnowledgeChunk.document_id == document_id)
            .order_by(KnowledgeChunk.index)
        )

    def scoped_chunks(self) -> Select[KnowledgeChunk]:
        return select(KnowledgeChunk).where(KnowledgeChunk.organization_id == self.tenant.organization_id)

    async def totals(self, model_id: str | None) -> tuple[int, int, int]:
        """Documents, chunks, and READY documents whose vectors are not ``model_id``'s."""
        org = self.tenant.organization_id
        documents = await self.session.scalar(
            select(func.count()).where(KnowledgeDocument.organization_id == org)
        )
        chunks = await self.session.scalar(select(func.count()).where(KnowledgeChunk.organization_id == org))
        stale = 0
        if model_id is not None:
            stale = (
                await self.session.scalar(
                    select(func.count()).where(
                        KnowledgeDocument.organization_id == org,
                        KnowledgeDocument.status == DocumentStatus.READY,
                        KnowledgeDocument.embedding_model.is_distinct_from(model_id),
                    )
                )
                or 0
            )
        return int(documents or 0), int(chunks or 0), int(stale)


async def count_documents(session: AsyncSession, organization_id: str) -> int:
    """The plan's ``knowledgeDocuments`` usage: every document, whatever its state."""
    stmt = select(func.count()).where(KnowledgeDocument.organization_id == organization_id)
    return int(await session.scalar(stmt) or 0)


async def locked_document(session: AsyncSession, document_id: str) -> KnowledgeDocument | None:
    """A document, re-read and locked (jobs and requests both change documents). Cross-tenant: jobs only."""
    stmt = (
        select(KnowledgeDocument)
        .where(KnowledgeDocument.id == document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt)


async def delete_chunks(session: AsyncSession, document: KnowledgeDocument) -> None:
    """Remove the document's chunks; whatever the caller writes next in this transaction (new chunks)
    is covered by the same change of the organization's knowledge version."""
    await session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id == document.id))
    await chunks_changed(session, document.organization_id)


async def chunks_changed(session: AsyncSession, organization_id: str) -> None:
    """Raise the organization's knowledge version (an atomic upsert): every process's cached vectors
    of it are reloaded once this transaction commits."""
    now = utcnow()
    insert = dialect_insert(session)(KnowledgeVersion).values(
        id=new_id(), organization_id=organization_id, version=1, created_at=now, updated_at=now
    )
    table = KnowledgeVersion.__table__.c
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[table.organization_id],
            set_={"version": table.version + 1, "updated_at": now},
        )
    )


async def knowledge_version(session: AsyncSession, organization_id: str) -> int:
    stmt = select(KnowledgeVersion.version).where(KnowledgeVersion.organization_id == organization_id)
    return int(await session.scalar(stmt) or 0)


class BotMediaRepository(TenantRepository[BotMedia]):
    model = BotMedia
    not_found_message = "Media not found"

    async def listed(self) -> Sequence[BotMedia]:
        return await self.list(self.select().order_by(BotMedia.created_at.desc(), BotMedia.id))

    async def among(self, ids: Sequence[str]) -> Sequence[BotMedia]:
        """The organization's media of ``ids``, in that order (an id not theirs is left out)."""
        found = {m.id: m for m in await self.list(self.select().where(BotMedia.id.in_(ids)))}
        return [found[i] for i in ids if i in found]


class DataSourceRepository(TenantRepository[InboxDataSource]):
    model = InboxDataSource
    not_found_message = "Data source not found"

    async def listed(self, *, active_only: bool = False) -> Sequence[InboxDataSource]:
        stmt = self.select().order_by(InboxDataSource.position, InboxDataSource.name, InboxDataSource.id)
        if active_only:
            stmt = stmt.where(InboxDataSource.is_active.is_(True))
        return await self.list(stmt)
