"""``POST /templates/bulk``: ``delete`` (REMOVED here, as ``DELETE /templates/{id}``) of templates
chosen by ids or by filter (``status``, ``category``, ``search``, ``whatsappAccountId``); ids not
found are reported in ``failed``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.core.bulk import MAX_BULK_IDS, BulkFailure, BulkResult, select_items
from cxinbox.models.templates import MessageTemplate
from cxinbox.templates import service
from cxinbox.templates.audit import audited
from cxinbox.templates.repository import TemplateRepository
from cxinbox.templates.schemas import BulkTemplates, TemplateFilter


async def run(session: AsyncSession, editor: Actor, body: BulkTemplates) -> BulkResult:
    repo = TemplateRepository(session, editor.principal.tenant)

    async def by_filter(criteria: TemplateFilter) -> list[MessageTemplate]:
        return list(await repo.list(repo.filtered(criteria).limit(MAX_BULK_IDS)))

    ids, templates = await select_items(
        body.selection, by_ids=repo.by_ids, filter_model=TemplateFilter, by_filter=by_filter
    )
    result = BulkResult(action=body.action, requested=len(ids), succeeded=0)
    for template_id in ids:
        template = templates.get(template_id)
        if template is None:
            result.failed.append(BulkFailure(id=template_id, code="NOT_FOUND", message="Template not found"))
            continue
        await service.remove(session, template)
        audited(session, editor, "template.removed", template, bulk=True)
        result.succeeded += 1
        result.succeeded_ids.append(template_id)
    return result
