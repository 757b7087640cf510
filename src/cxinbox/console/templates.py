"""The templates page: the WhatsApp templates with their status (admins and supervisors see every
status, an agent the approved ones, as ``GET /templates``), and for admins saving a draft and
submitting a draft to Meta, through the services of ``/templates``."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.console.admin import actor, again, notice, perform, refused, text
from cxinbox.console.places import ADMIN, SUPERVISOR, TEMPLATES
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.models.templates import TemplateCategory
from cxinbox.templates import service
from cxinbox.templates.audit import audited
from cxinbox.templates.schemas import DraftTemplate, TemplateFilter
from cxinbox.templates.serializers import template_out

router = APIRouter(include_in_schema=False)
#: what only an admin may do on the page
EDIT = replace(TEMPLATES, roles=ADMIN)
DONE = ("draft_saved", "template_submitted")


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    criteria = TemplateFilter(status="all" if visit.member.has_role(*SUPERVISOR) else None)
    async with visit.runtime.read_session() as session:
        found = await service.list_templates(session, visit.member, criteria)
    context.setdefault("notice", notice(visit, DONE))
    return visit.page(
        "console/templates.html",
        status_code,
        templates=[template_out(t) for t in found],
        categories=[c.value for c in TemplateCategory],
        editor=visit.member.has_role(*EDIT.roles),
        **context,
    )


@router.get(TEMPLATES.path, response_class=HTMLResponse)
async def templates_page(visit: MemberDep) -> Response:
    return refused(visit, TEMPLATES) or await _page(visit)


@router.post(TEMPLATES.path, response_class=HTMLResponse)
async def save_draft(visit: MemberDep, form: FormDep) -> Response:
    """A draft of a body-only template (Meta's other components are the API's)."""
    if no := refused(visit, EDIT):
        return no
    submitted = {
        "name": text(form, "name", 600),
        "category": text(form, "category", 32),
        "language": text(form, "language", 16) or "en_US",
        "body": text(form, "body", 2000),
    }
    try:
        body = DraftTemplate.model_validate(
            {**submitted, "components": [{"type": "BODY", "text": submitted["body"]}]}
        )
    except ValidationError:
        return await _page(visit, 400, error=visit.t("template_invalid"), submitted=submitted)
    editor = actor(visit)

    async def work(session: AsyncSession) -> None:
        template = await service.save_draft(session, editor.principal, body)
        audited(session, editor, "template.created", template)

    return await perform(visit, work, TEMPLATES.path, "draft_saved", again(_page, visit, submitted=submitted))


@router.post(TEMPLATES.path + "/{id}/submit", response_class=HTMLResponse)
async def submit(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, EDIT):
        return no
    editor, runtime = actor(visit), visit.runtime

    async def work(session: AsyncSession) -> None:
        template = await service.submit_draft(session, runtime, editor.principal, id)
        audited(session, editor, "template.submitted", template)

    return await perform(visit, work, TEMPLATES.path, "template_submitted", again(_page, visit))
