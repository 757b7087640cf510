"""What the knowledge base publishes: ``document.updated`` as a document moves through ingestion
(``{id, status, progress, chunkCount, error}``) and ``document.deleted`` (``{id}``). Admins and
supervisors see them (agents do not manage the knowledge base)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.core.events import publish_event
from cxinbox.models.identity import Role
from cxinbox.models.knowledge import KnowledgeDocument
from cxinbox.realtime.visibility import EventPredicate

DOCUMENT_EVENTS = "document."


def publish_document_updated(session: AsyncSession, document: KnowledgeDocument) -> None:
    data = {
        "id": document.id,
        "status": document.status.value,
        "progress": document.progress,
        "chunkCount": document.chunk_count,
        "error": document.error,
    }
    publish_event(session, document.organization_id, "document.updated", data)


def publish_document_deleted(session: AsyncSession, document: KnowledgeDocument) -> None:
    publish_event(session, document.organization_id, "document.deleted", {"id": document.id})


async def agents_see_no_documents(_session: AsyncSession, principal: Principal) -> EventPredicate:
    if principal.role != Role.AGENT:
        return lambda _event: True
    return lambda event: not event["type"].startswith(DOCUMENT_EVENTS)
