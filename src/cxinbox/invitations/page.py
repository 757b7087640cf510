"""``/invite/{token}``: the page an invitation email links to (``{PUBLIC_URL}/invite/{token}``).

It shows the invitation (organization, email, role) and a form for a name and a password, and
accepts through the same service as ``POST /api/v1/invitations/accept/{token}``. An unknown link
answers 404, one that can no longer be used (expired, revoked, accepted) 410, each as a page. No
script: the form posts back to the same address.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from cxinbox.auth.dependencies import RuntimeDep
from cxinbox.auth.passwords import MIN_PASSWORD_LENGTH
from cxinbox.core.errors import AppError
from cxinbox.invitations import service
from cxinbox.invitations.schemas import AcceptInvitation, PublicInvitation
from cxinbox.invitations.serializers import present_public
from cxinbox.web.pages import render

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Path(max_length=200)]
#: the form's fields, with the labels its error messages use
FIELDS = {"name": "Your name", "password": "Password"}


@router.get("/invite/{token}", response_class=HTMLResponse)
async def invitation_page(token: Token, runtime: RuntimeDep) -> HTMLResponse:
    try:
        async with runtime.unit_of_work() as session:
            invitation, org = await service.find_usable(session, runtime, token)
            shown = await present_public(session, invitation, org)
    except AppError as exc:
        return _unusable(exc)
    return _form(shown, name=shown.name or "")


@router.post("/invite/{token}", response_class=HTMLResponse)
async def accept_from_page(token: Token, request: Request, runtime: RuntimeDep) -> HTMLResponse:
    form = await request.form()
    submitted = {field: form.get(field) for field in FIELDS}
    try:
        async with runtime.unit_of_work() as session:
            invitation, org = await service.find_usable(session, runtime, token)
            shown = await present_public(session, invitation, org)
            try:
                body = AcceptInvitation.model_validate(submitted)
            except ValidationError as exc:
                name = submitted["name"] if isinstance(submitted["name"], str) else ""
                return _form(shown, name=name, errors=_messages(exc), status_code=400)
            user, _ = await service.accept(session, runtime, token, body)
    except AppError as exc:
        return _unusable(exc)
    return render("invite_done.html", organization=shown.organization.name, email=user.email)


def _form(
    shown: PublicInvitation, *, name: str, errors: Sequence[str] = (), status_code: int = 200
) -> HTMLResponse:
    return render(
        "invite.html",
        status_code,
        organization=shown.organization.name,
        email=shown.email,
        role=shown.role.value.lower(),
        invited_by=shown.invited_by,
        name=name,
        errors=errors,
        expires_at=shown.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        min_password_length=MIN_PASSWORD_LENGTH,
    )


def _messages(exc: ValidationError) -> list[str]:
    return [f"{FIELDS.get(str(e['loc'][0]), 'Form')}: {e['msg']}" for e in exc.errors()]


def _unusable(exc: AppError) -> HTMLResponse:
    return render("invite_unusable.html", exc.status_code, message=exc.message)
