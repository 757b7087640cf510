"""The API keys page (admins): the organization's keys, a form that creates one (its full key is
shown once, on the page the creation answers, and never again) and revoking a key, through the
same services as ``/api-keys``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from cxinbox.api_keys import service
from cxinbox.api_keys.repository import ApiKeyRepository
from cxinbox.api_keys.schemas import ApiKeyOut, CreateApiKey
from cxinbox.auth.scopes import ALL_SCOPES
from cxinbox.console.admin import again, error_text, notice, perform, refused, text
from cxinbox.console.places import API_KEYS
from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.errors import AppError

router = APIRouter(include_in_schema=False)
DONE = ("key_revoked",)


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    async with visit.runtime.read_session() as session:
        keys = await ApiKeyRepository(session, visit.member.tenant).all_newest_first()
        shown = [ApiKeyOut.model_validate(k) for k in keys]
    context.setdefault("notice", notice(visit, DONE))
    response = visit.page("console/api_keys.html", status_code, keys=shown, scopes=ALL_SCOPES, **context)
    return response


@router.get(API_KEYS.path, response_class=HTMLResponse)
async def keys_page(visit: MemberDep) -> Response:
    return refused(visit, API_KEYS) or await _page(visit)


@router.post(API_KEYS.path, response_class=HTMLResponse)
async def create_key(visit: MemberDep, form: FormDep) -> Response:
    """Answers the page itself (not a redirect): the only time the full key is shown."""
    if no := refused(visit, API_KEYS):
        return no
    scopes = [s for s in form.getlist("scopes") if isinstance(s, str)]
    try:
        body = CreateApiKey.model_validate({"name": text(form, "name", 300), "scopes": scopes or None})
    except ValidationError:
        return await _page(visit, 400, error=visit.t("invalid_form"))
    tenant, hasher, user_id = visit.member.tenant, visit.runtime.hasher, visit.member.user_id
    try:
        _, key = await in_unit_of_work(
            visit.runtime, lambda s: service.create(s, tenant, hasher, body, user_id)
        )
    except AppError as exc:
        return await _page(visit, exc.status_code, error=error_text(visit, exc))
    return await _page(visit, 201, new_key=key, new_key_name=body.name)


@router.post(API_KEYS.path + "/{id}/revoke", response_class=HTMLResponse)
async def revoke_key(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, API_KEYS):
        return no
    tenant = visit.member.tenant
    return await perform(
        visit, lambda s: service.delete(s, tenant, id), API_KEYS.path, "key_revoked", again(_page, visit)
    )
