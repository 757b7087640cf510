from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from cxinbox.auth.dependencies import AdminDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import NO_API_KEYS
from cxinbox.core.http import client_ip
from cxinbox.core.pagination import PageParams, page_params
from cxinbox.core.wire import Deleted, Envelope, PageEnvelope
from cxinbox.invitations import service
from cxinbox.invitations.schemas import (
    AcceptInvitation,
    BulkInvitationResult,
    BulkInvitations,
    CreateInvitation,
    InvitationOut,
    PublicInvitation,
)
from cxinbox.invitations.serializers import present_invitation, present_invitations, present_public
from cxinbox.models.invitations import InvitationStatus
from cxinbox.sign_in.schemas import TokenBundle

router = APIRouter(prefix="/invitations", tags=["invitations"], dependencies=[NO_API_KEYS])

_LINK_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No invitation has this token"},
    410: {"description": "Expired, revoked or already accepted (code INVITATION_EXPIRED, …)"},
}


@router.get("", summary="List invitations for current org", description="Admin only. Newest first.")
async def list_invitations(
    principal: AdminDep,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    status: InvitationStatus | None = Query(None, description="Only invitations in this state"),
) -> PageEnvelope[InvitationOut]:
    invitations, total = await service.list_invitations(session, principal.tenant, status, page)
    return PageEnvelope(data=await present_invitations(session, invitations), meta=page.meta(total))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a single invitation",
    description="Admin only. Mails the link `{PUBLIC_URL}/invite/{token}` (valid 7 days, single use), "
    "a page the server itself serves: it shows the invitation and accepts it with a name and a password. "
    "A pending invitation holds a seat of the plan (402 PLAN_LIMIT_REACHED when none is left).",
)
async def create_invitation(
    body: CreateInvitation, request: Request, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[InvitationOut]:
    invitation = await service.create(session, runtime, principal, body, client_ip(request))
    return Envelope(data=await present_invitation(session, invitation))


@router.post(
    "/bulk",
    summary="Create multiple invitations at once",
    description="Admin only. Each address is invited on its own: `invitations` are the ones created, "
    "`failed` names each email that was not (already a user, already invited, no seat left, …).",
)
async def create_invitations(
    body: BulkInvitations, request: Request, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BulkInvitationResult]:
    created, failed = await service.create_many(
        session, runtime, principal, body.invitations, client_ip(request)
    )
    return Envelope(
        data=BulkInvitationResult(
            action="invite",
            requested=len(body.invitations),
            succeeded=len(created),
            failed=failed,
            succeeded_ids=[i.id for i in created],
            invitations=await present_invitations(session, created),
        )
    )


@router.post(
    "/{id}/resend",
    summary="Resend invitation email",
    description="Admin only. Mails a fresh link valid 7 more days; the previous link stops working.",
)
async def resend_invitation(
    id: str, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[InvitationOut]:
    invitation = await service.resend(session, runtime, principal, id)
    return Envelope(data=await present_invitation(session, invitation))


@router.delete("/{id}", summary="Revoke a pending invitation", description="Admin only.")
async def revoke_invitation(
    id: str, request: Request, principal: AdminDep, session: SessionDep
) -> Envelope[Deleted]:
    await service.revoke(session, principal, id, client_ip(request))
    return Envelope(data=Deleted(id=id))


@router.get("/token/{token}", summary="Get invitation details by token (public)", responses=_LINK_ERRORS)
async def lookup_invitation(
    token: str, session: SessionDep, runtime: RuntimeDep
) -> Envelope[PublicInvitation]:
    invitation, org = await service.find_usable(session, runtime, token)
    return Envelope(data=await present_public(session, invitation, org))


@router.post(
    "/accept/{token}",
    summary="Accept invitation and create account",
    description="Public. Sets the name and password and signs the new member in (the same answer as "
    "`/auth/login`). The link works once.",
    responses=_LINK_ERRORS,
)
async def accept_invitation(
    token: str, body: AcceptInvitation, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TokenBundle]:
    user, pair = await service.accept(session, runtime, token, body)
    return Envelope(data=TokenBundle.of(user, pair))
