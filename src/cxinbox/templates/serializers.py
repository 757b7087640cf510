"""A template on the wire, and its events (``template.created``, ``template.updated``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.events import publish_event
from cxinbox.models.templates import MessageTemplate
from cxinbox.templates.schemas import TemplateOut


def template_out(template: MessageTemplate) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        name=template.name,
        language=template.language,
        category=template.category,
        components=template.components,
        status=template.status,
        meta_status=template.meta_status,
        quality_score=template.quality_score,
        rejected_reason=template.rejected_reason,
        meta_template_id=template.meta_template_id,
        whatsapp_account_id=template.whatsapp_account_id,
        last_synced_at=template.last_synced_at,
        created_at=template.created_at,
        updated_at=template.updated_at,
    )


def publish_template(
    session: AsyncSession, template: MessageTemplate, type: str = "template.updated"
) -> None:
    data = template_out(template).model_dump(mode="json", by_alias=True)
    publish_event(session, template.organization_id, type, data)
