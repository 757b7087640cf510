"""The team page (admins): the organization's people (change a role, deactivate or reactivate)
and its invitations (invite, resend, revoke), through the same services as ``/users`` and
``/invitations`` (the invitation email links to the ``/invite/{token}`` page)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from cxinbox.console.admin import again, notice, perform, refused, text
from cxinbox.console.places import TEAM
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.http import client_ip
from cxinbox.core.pagination import PageParams
from cxinbox.invitations import service as invitations
from cxinbox.invitations.schemas import CreateInvitation
from cxinbox.invitations.serializers import present_invitations
from cxinbox.models.invitations import InvitationStatus
from cxinbox.users import service as users
from cxinbox.users.schemas import UpdateUser, UserFilter

router = APIRouter(include_in_schema=False)
PAGE = TEAM
TEAM_PATH = TEAM.path
#: the most people and pending invitations the page lists
SHOWN = 100
DONE = ("invited", "role_changed", "deactivated", "reactivated", "resent", "revoked")


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    principal = visit.member
    first = PageParams(page=1, limit=SHOWN)
    async with visit.runtime.read_session() as session:
        people, _ = await users.list_users(session, principal, UserFilter(), first)
        pending, _ = await invitations.list_invitations(
            session, principal.tenant, InvitationStatus.PENDING, first
        )
        shown = await present_invitations(session, pending)
    context.setdefault("notice", notice(visit, DONE))
    return visit.page("console/team.html", status_code, people=people, invitations=shown, **context)


@router.get(TEAM_PATH, response_class=HTMLResponse)
async def team_page(visit: MemberDep) -> Response:
    return refused(visit, PAGE) or await _page(visit)


@router.post(TEAM_PATH + "/invitations", response_class=HTMLResponse)
async def invite(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, PAGE):
        return no
    submitted = {k: v for k in ("email", "name", "role") if (v := text(form, k, 320))}
    try:
        body = CreateInvitation.model_validate(submitted)
    except ValidationError:
        return await _page(visit, 400, error=visit.t("invite_invalid"), submitted=submitted)
    principal, runtime, ip = visit.member, visit.runtime, client_ip(visit.request)
    return await perform(
        visit,
        lambda s: invitations.create(s, runtime, principal, body, ip),
        TEAM_PATH,
        "invited",
        again(_page, visit, submitted=submitted),
    )


@router.post(TEAM_PATH + "/users/{id}/role", response_class=HTMLResponse)
async def change_role(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, PAGE):
        return no
    try:
        body = UpdateUser.model_validate({"role": text(form, "role", 32)})
    except ValidationError:
        return await _page(visit, 400, error=visit.t("invalid_form"))
    return await _update(visit, id, body, "role_changed")


@router.post(TEAM_PATH + "/users/{id}/active", response_class=HTMLResponse)
async def set_active(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, PAGE):
        return no
    active = text(form, "active") == "true"
    return await _update(visit, id, UpdateUser(is_active=active), "reactivated" if active else "deactivated")


async def _update(visit: Visit, id: str, body: UpdateUser, done: str) -> Response:
    principal, runtime, ip = visit.member, visit.runtime, client_ip(visit.request)
    return await perform(
        visit,
        lambda s: users.update_user(s, runtime, principal, id, body, ip),
        TEAM_PATH,
        done,
        again(_page, visit),
    )


@router.post(TEAM_PATH + "/invitations/{id}/resend", response_class=HTMLResponse)
async def resend(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, PAGE):
        return no
    principal, runtime = visit.member, visit.runtime
    return await perform(
        visit,
        lambda s: invitations.resend(s, runtime, principal, id),
        TEAM_PATH,
        "resent",
        again(_page, visit),
    )


@router.post(TEAM_PATH + "/invitations/{id}/revoke", response_class=HTMLResponse)
async def revoke(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, PAGE):
        return no
    principal, ip = visit.member, client_ip(visit.request)
    return await perform(
        visit, lambda s: invitations.revoke(s, principal, id, ip), TEAM_PATH, "revoked", again(_page, visit)
    )
