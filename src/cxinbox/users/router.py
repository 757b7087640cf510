from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from cxinbox.auth.dependencies import AdminDep, MemberDep, ReadSessionDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import NO_API_KEYS, Area, key_scope
from cxinbox.core.bulk import BulkResult
from cxinbox.core.http import client_ip
from cxinbox.core.pagination import PageParams, page_params
from cxinbox.core.wire import Deleted, Envelope, PageEnvelope
from cxinbox.models.identity import Presence, Role
from cxinbox.users import bulk, service
from cxinbox.users.schemas import BulkUsers, CreateUser, UpdatePresence, UpdateUser, UserFilter, UserOut
from cxinbox.users.serializers import present_user, present_users

router = APIRouter(prefix="/users", tags=["users"], dependencies=[key_scope(Area.USERS)])


async def user_filter(
    search: str | None = Query(None, max_length=200, description="Part of the name or email"),
    role: Role | None = Query(None),
    is_active: bool | None = Query(None, alias="isActive"),
    status: Presence | None = Query(None, description="Presence"),
    team_id: str | None = Query(None, alias="teamId", description="Members of this team"),
) -> UserFilter:
    return UserFilter(search=search, role=role, is_active=is_active, status=status, team_id=team_id)


@router.get(
    "",
    summary="List users (agents)",
    description="Every member may list the people of the organization (to assign and mention them). "
    "ADMIN and SUPERVISOR see everyone; an AGENT sees active users only. Deleted users are not listed.",
)
async def list_users(
    principal: MemberDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    criteria: Annotated[UserFilter, Depends(user_filter)],
    page: Annotated[PageParams, Depends(page_params)],
) -> PageEnvelope[UserOut]:
    users, total = await service.list_users(session, principal, criteria, page)
    return PageEnvelope(
        data=await present_users(session, runtime, principal.tenant, users), meta=page.meta(total)
    )


@router.post(
    "",
    dependencies=[NO_API_KEYS],
    status_code=status.HTTP_201_CREATED,
    summary="Create a new user (admin only)",
    description="The user is active at once, without a password: they receive an invitation email "
    "whose link sets their name and password, and may also sign in with an emailed one-time code. "
    "Takes a seat of the plan (402 PLAN_LIMIT_REACHED when none is left).",
)
async def create_user(
    body: CreateUser, request: Request, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[UserOut]:
    user = await service.create_user(session, runtime, principal, body, client_ip(request))
    return Envelope(data=await present_user(session, runtime, principal.tenant, user))


@router.post(
    "/bulk",
    dependencies=[NO_API_KEYS],
    summary="Bulk actions on users (admin only)",
    description="Actions: `delete`, `activate`, `deactivate`, `setRole` (with `role`), `resendInvite`. "
    "`selection.filter` takes the list's filters (`search`, `role`, `isActive`, `status`, `teamId`).",
)
async def bulk_users(
    body: BulkUsers, request: Request, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BulkResult]:
    return Envelope(data=await bulk.run(session, runtime, principal, body, client_ip(request)))


@router.patch(
    "/{id}",
    dependencies=[NO_API_KEYS],
    summary="Update a user (admin only)",
    description="Name, role, teams (`teamIds` replaces them) and `isActive`. Deactivating signs the "
    "user out everywhere. An admin cannot demote or deactivate themself, nor the last active admin.",
)
async def update_user(
    id: str, body: UpdateUser, request: Request, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[UserOut]:
    user = await service.update_user(session, runtime, principal, id, body, client_ip(request))
    return Envelope(data=await present_user(session, runtime, principal.tenant, user))


@router.delete(
    "/{id}",
    dependencies=[NO_API_KEYS],
    summary="Soft-delete a user (admin only)",
    description="The user can no longer sign in (their sessions are revoked) and leaves their teams; "
    "their history (messages, audit entries) is kept.",
)
async def delete_user(
    id: str, request: Request, principal: AdminDep, session: SessionDep
) -> Envelope[Deleted]:
    await service.delete_user(session, principal, id, client_ip(request))
    return Envelope(data=Deleted(id=id))


@router.post(
    "/{id}/resend-invite",
    dependencies=[NO_API_KEYS],
    summary="Resend invitation email to a user (admin only)",
    description="Mails a fresh link (the previous one stops working). 409 once the user has a password.",
)
async def resend_invite(
    id: str, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[UserOut]:
    user = await service.resend_invite(session, runtime, principal, id)
    return Envelope(data=await present_user(session, runtime, principal.tenant, user))


@router.patch(
    "/{id}/status",
    dependencies=[NO_API_KEYS],
    summary="Update user online status",
    description="Any member sets their own presence; another user's id answers 403.",
)
async def update_status(
    id: str, body: UpdatePresence, principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[UserOut]:
    user = await service.set_presence(session, runtime, principal, id, body.status)
    return Envelope(data=await present_user(session, runtime, principal.tenant, user))
