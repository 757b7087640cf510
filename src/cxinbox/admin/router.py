"""``/admin``: the platform operator's endpoints. Only a SUPER_ADMIN passes (an organization's ADMIN
gets 403). A super admin holding enter-org tokens is still the super admin here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from cxinbox.admin import service, stats
from cxinbox.admin.repository import OrganizationRepository
from cxinbox.admin.schemas import (
    AdminOrganization,
    AdminOrganizationDetail,
    AdminOrganizationListItem,
    AdminUser,
    CreateOrganization,
    EnteredOrganization,
    InviteSent,
    OrganizationBulk,
    OrganizationCreated,
    OrganizationFilter,
    OrganizationSortBy,
    PlatformStats,
    ResendInvite,
    SortOrder,
    SystemConfig,
    UpdateOrganization,
)
from cxinbox.admin.system_config import effective_config
from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import RuntimeDep, SessionDep, SuperAdminDep
from cxinbox.auth.scopes import NO_API_KEYS
from cxinbox.core.bulk import BulkResult
from cxinbox.core.pagination import PageParams, page_params
from cxinbox.core.wire import Envelope, PageEnvelope
from cxinbox.models.identity import Organization, OrganizationStatus, Plan, Role, User
from cxinbox.plans.service import organization_usage
from cxinbox.sign_in.schemas import TokenUser

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[NO_API_KEYS])


ActorDep = Annotated[Actor, Depends(acting_as(Role.SUPER_ADMIN))]


def organization_out(org: Organization) -> AdminOrganization:
    return AdminOrganization.model_validate(org)


def user_out(user: User) -> AdminUser:
    return AdminUser.model_validate(user)


@router.get("/stats", summary="Get global platform statistics (super admin only)")
async def platform_stats(_: SuperAdminDep, session: SessionDep) -> Envelope[PlatformStats]:
    return Envelope(data=await stats.platform_stats(session))


@router.get("/organizations", summary="List organizations with pagination and filters (super admin only)")
async def list_organizations(
    _: SuperAdminDep,
    session: SessionDep,
    paging: Annotated[PageParams, Depends(page_params)],
    search: Annotated[str | None, Query(max_length=200, description="Part of the name or slug")] = None,
    plan: Plan | None = None,
    status: OrganizationStatus | None = None,
    sort_by: Annotated[OrganizationSortBy, Query(alias="sortBy")] = OrganizationSortBy.CREATED_AT,
    sort_order: Annotated[SortOrder, Query(alias="sortOrder")] = SortOrder.DESC,
) -> PageEnvelope[AdminOrganizationListItem]:
    repo = OrganizationRepository(session)
    wanted = OrganizationFilter(search=search, plan=plan, status=status)
    orgs, total = await repo.page(wanted, sort_by, sort_order, paging)
    users = await repo.user_counts([org.id for org in orgs])
    items = [
        AdminOrganizationListItem(**organization_out(org).model_dump(), user_count=users.get(org.id, 0))
        for org in orgs
    ]
    return PageEnvelope(data=items, meta=paging.meta(total))


@router.post(
    "/organizations",
    status_code=status.HTTP_201_CREATED,
    summary="Create a new organization with initial admin user (super admin only)",
    description="The admin is created active without a password and is emailed how to sign in "
    "with a one-time code. A taken slug or email answers 409.",
)
async def create_organization(
    body: CreateOrganization, actor: ActorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[OrganizationCreated]:
    org, admin = await service.create_organization(session, runtime, actor, body)
    return Envelope(data=OrganizationCreated(**organization_out(org).model_dump(), admin=user_out(admin)))


@router.post(
    "/organizations/bulk",
    summary="Bulk status change on organizations (super admin only)",
    description="`action` is `suspend`, `activate` or `cancel`; `selection` names organizations by "
    "`ids` or by `filter` (`search`, `plan`, `status`). Unknown ids are reported in `failed`.",
)
async def bulk_organizations(
    body: OrganizationBulk, actor: ActorDep, session: SessionDep
) -> Envelope[BulkResult]:
    return Envelope(data=await service.bulk_change_status(session, actor, body))


@router.get("/organizations/{id}", summary="Get organization detail (super admin only)")
async def get_organization(
    id: str, _: SuperAdminDep, session: SessionDep
) -> Envelope[AdminOrganizationDetail]:
    org = await OrganizationRepository(session).get_or_404(id)
    usage = await organization_usage(session, org)
    return Envelope(
        data=AdminOrganizationDetail(
            **organization_out(org).model_dump(),
            counts=await service.organization_counts(session, org.id),
            usage=usage.limits,
        )
    )


@router.patch(
    "/organizations/{id}",
    summary="Update an organization (super admin only)",
    description="Changes `name`, `plan`, `status` and `limitOverrides`. A SUSPENDED or CANCELLED "
    "organization keeps its data; its users get 403 until it is ACTIVE again.",
)
async def update_organization(
    id: str, body: UpdateOrganization, actor: ActorDep, session: SessionDep
) -> Envelope[AdminOrganization]:
    org = await service.update_organization(session, actor, id, body)
    return Envelope(data=organization_out(org))


@router.get("/organizations/{id}/users", summary="List users of an organization (super admin only)")
async def organization_users(id: str, _: SuperAdminDep, session: SessionDep) -> Envelope[list[AdminUser]]:
    repo = OrganizationRepository(session)
    org = await repo.get_or_404(id)
    return Envelope(data=[user_out(u) for u in await repo.users_of(org.id)])


@router.post(
    "/organizations/{id}/resend-invite",
    summary="Resend invitation email to a user in an organization (super admin only)",
    description="Emails the user how to sign in with a one-time code.",
)
async def resend_invite(
    id: str, body: ResendInvite, actor: ActorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[InviteSent]:
    user = await service.resend_invite(session, runtime, actor, id, body.user_id)
    return Envelope(data=InviteSent(user_id=user.id, email=user.email))


@router.get("/system-config", summary="Get server environment configuration (super admin only)")
async def system_config(_: SuperAdminDep, runtime: RuntimeDep) -> Envelope[SystemConfig]:
    return Envelope(data=effective_config(runtime.settings))


@router.post(
    "/enter-org/{orgId}",
    summary="Generate tokens to enter a specific organization's context (super admin only)",
    description="The tokens act inside the organization with its ADMIN's rights (the access token "
    "carries `org` and `imp` claims; `/auth/me` shows `impersonatedBy`). They reach only that "
    "organization's resources; `/admin` stays open to the super admin. Written to the audit log.",
)
async def enter_org(
    orgId: str,  # noqa: N803 - the reference's path parameter name
    actor: ActorDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Envelope[EnteredOrganization]:
    user, org, pair = await service.enter_organization(session, runtime, actor, orgId)
    token_user = TokenUser.model_validate(user).model_copy(update={"organization_id": org.id})
    return Envelope(
        data=EnteredOrganization(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            user=token_user,
            organization=organization_out(org),
        )
    )
