"""``/invite/{token}``: the page an invitation email links to (``{PUBLIC_URL}/invite/{token}``).

It shows the invitation (organization, email, role) and a form for a name and a password, accepts
through the same service as ``POST /api/v1/invitations/accept/{token}``, and signs the new member
in (the console's cookies, as a sign-in sets them). An unknown link answers 404, one that can no
longer be used (expired, revoked, accepted) 410, each as a page. The link is a secret: the page
sends no referrer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from cxinbox.auth.passwords import MIN_PASSWORD_LENGTH
from cxinbox.console.admin import text
from cxinbox.console.sign_in import INBOX_PATH
from cxinbox.console.visit import FormDep, Visit, VisitorDep
from cxinbox.core.errors import AppError
from cxinbox.invitations import service
from cxinbox.invitations.schemas import AcceptInvitation, PublicInvitation
from cxinbox.invitations.serializers import present_public

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(max_length=200)]


def _private(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _usable(visit: Visit, token: str) -> PublicInvitation:
    async with visit.runtime.unit_of_work() as session:
        invitation, org = await service.find_usable(session, visit.runtime, token)
        return await present_public(session, invitation, org)


def _form(
    visit: Visit, shown: PublicInvitation, name: str, status_code: int = 200, **context: object
) -> Response:
    page = visit.page(
        "console/invite.html",
        status_code,
        invitation=shown,
        name=name,
        min_password_length=MIN_PASSWORD_LENGTH,
        **context,
    )
    return _private(page)


def _unusable(visit: Visit, exc: AppError) -> Response:
    key = "invite_unknown" if exc.status_code == 404 else "invite_gone"
    page = visit.page("console/message.html", exc.status_code, title=visit.t("invitation"), text=visit.t(key))
    return _private(page)


@router.get("/invite/{token}", response_class=HTMLResponse)
async def invitation_page(token: Token, visit: VisitorDep) -> Response:
    try:
        shown = await _usable(visit, token)
    except AppError as exc:
        return _unusable(visit, exc)
    return _form(visit, shown, shown.name or "")


@router.post("/invite/{token}", response_class=HTMLResponse)
async def accept(token: Token, visit: VisitorDep, form: FormDep) -> Response:
    try:
        shown = await _usable(visit, token)
        name = text(form, "name", 300)
        try:
            body = AcceptInvitation.model_validate({"name": name, "password": form.get("password")})
        except ValidationError:
            return _form(visit, shown, name, 400, error=visit.t("invite_form_invalid", n=MIN_PASSWORD_LENGTH))
        async with visit.runtime.unit_of_work() as session:
            _, pair = await service.accept(session, visit.runtime, token, body)
    except AppError as exc:
        return _unusable(visit, exc)
    visit.start_session(pair)
    return _private(visit.redirect(INBOX_PATH))
