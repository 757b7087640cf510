"""The team page (admins): the organization's people and its invitations, and a form that invites
someone by email, through the same services as ``GET /users``, ``GET /invitations`` and
``POST /invitations`` (the invitation email links to the ``/invite/{token}`` page)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from cxinbox.console.inbox import no_organization
from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.errors import AppError
from cxinbox.core.http import client_ip
from cxinbox.core.pagination import PageParams
from cxinbox.invitations import service as invitations
from cxinbox.invitations.schemas import CreateInvitation
from cxinbox.invitations.serializers import present_invitations
from cxinbox.models.identity import Role
from cxinbox.models.invitations import InvitationStatus
from cxinbox.users import service as users
from cxinbox.users.schemas import UserFilter

router = APIRouter(include_in_schema=False)
TEAM_PATH = "/team"
#: the most people and pending invitations the page lists
SHOWN = 100


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    principal = visit.member
    first = PageParams(page=1, limit=SHOWN)
    async with visit.runtime.read_session() as session:
        people, _ = await users.list_users(session, principal, UserFilter(), first)
        pending, _ = await invitations.list_invitations(
            session, principal.tenant, InvitationStatus.PENDING, first
        )
        shown = await present_invitations(session, pending)
    return visit.page("console/team.html", status_code, people=people, invitations=shown, **context)


def _refused(visit: Visit) -> Response | None:
    """Admins only (an agent or supervisor gets a page that says so, and nothing of the team)."""
    if visit.member.organization_id is None:
        return no_organization(visit)
    if not visit.member.has_role(Role.ADMIN):
        return visit.page("console/message.html", 403, title=visit.t("team"), text=visit.t("admins_only"))
    return None


@router.get(TEAM_PATH, response_class=HTMLResponse)
async def team_page(visit: MemberDep) -> Response:
    return _refused(visit) or await _page(visit)


@router.post(TEAM_PATH + "/invitations", response_class=HTMLResponse)
async def invite(visit: MemberDep, form: FormDep) -> Response:
    if refused := _refused(visit):
        return refused
    fields = {k: form.get(k) for k in ("email", "name", "role")}
    submitted = {k: v.strip() for k, v in fields.items() if isinstance(v, str) and v.strip()}
    try:
        body = CreateInvitation.model_validate(submitted)
    except ValidationError:
        return await _page(visit, 400, error=visit.t("invite_invalid"), submitted=submitted)
    principal, runtime, ip = visit.member, visit.runtime, client_ip(visit.request)
    try:
        await in_unit_of_work(runtime, lambda s: invitations.create(s, runtime, principal, body, ip))
    except AppError as exc:
        error = visit.t("action_failed", message=exc.message)
        return await _page(visit, exc.status_code, error=error, submitted=submitted)
    return await _page(visit, notice=visit.t("invite_sent", email=body.email))
