"""The branding page (admins): the name, WhatsApp phone and colour the organization shows, through
the same service as ``PUT /config/branding``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from cxinbox.console.admin import actor, again, notice, perform, refused, text
from cxinbox.console.places import BRANDING
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.org_config import service
from cxinbox.org_config.schemas import UpdateBranding

router = APIRouter(include_in_schema=False)
DONE = ("branding_saved",)
FIELDS = {"company_name": "companyName", "whatsapp_phone": "whatsappPhone", "primary_color": "primaryColor"}


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    async with visit.runtime.read_session() as session:
        shown = await service.branding(session, visit.runtime, visit.member.tenant)
    context.setdefault("notice", notice(visit, DONE))
    return visit.page("console/branding.html", status_code, branding=shown, **context)


@router.get(BRANDING.path, response_class=HTMLResponse)
async def branding_page(visit: MemberDep) -> Response:
    return refused(visit, BRANDING) or await _page(visit)


@router.post(BRANDING.path, response_class=HTMLResponse)
async def save_branding(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, BRANDING):
        return no
    try:
        body = UpdateBranding.model_validate(
            {wire: text(form, field, 300) or None for field, wire in FIELDS.items()}
        )
    except ValidationError:
        return await _page(visit, 400, error=visit.t("branding_invalid"))
    editor, runtime = actor(visit), visit.runtime
    return await perform(
        visit,
        lambda s: service.update_branding(s, runtime, editor, body),
        BRANDING.path,
        "branding_saved",
        again(_page, visit),
    )
