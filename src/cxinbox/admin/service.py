"""Rules of the super admin's work on organizations. Every change is written to the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.admin.repository import OrganizationRepository
from cxinbox.admin.schemas import (
    CreateOrganization,
    OrganizationBulk,
    OrganizationCounts,
    OrganizationFilter,
    UpdateOrganization,
)
from cxinbox.audit.request import Actor
from cxinbox.auth.refresh import TokenPair, start_session
from cxinbox.core.bulk import BulkFailure, BulkResult, BulkSelection
from cxinbox.core.errors import Conflict, NotFound, ValidationFailed
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.identity import Organization, OrganizationStatus, Role, User
from cxinbox.runtime import Runtime
from cxinbox.sign_in.service import find_user_by_email, unique_slug
from cxinbox.users.service import send_user_invitation

BULK_STATUS = {
    "suspend": OrganizationStatus.SUSPENDED,
    "activate": OrganizationStatus.ACTIVE,
    "cancel": OrganizationStatus.CANCELLED,
}
ORGANIZATION = "organization"


def _record(session: AsyncSession, actor: Actor, action: str, org_id: str, **details: Any) -> None:
    actor.record(
        session, action, target_type=ORGANIZATION, target_id=org_id, organization_id=org_id, details=details
    )


async def create_organization(
    session: AsyncSession, runtime: Runtime, actor: Actor, body: CreateOrganization
) -> tuple[Organization, User]:
    repo = OrganizationRepository(session)
    if body.slug and await repo.slug_taken(body.slug):
        raise Conflict("This slug is taken", details=[{"field": "slug", "message": "taken"}])
    if await find_user_by_email(session, body.admin_email):
        raise Conflict(
            "An account with this email already exists",
            details=[{"field": "adminEmail", "message": "taken"}],
        )
    org = repo.add(
        Organization(
            name=body.name.strip(),
            slug=body.slug or await unique_slug(session, body.name),
            plan=body.plan,
            limit_overrides={},
        )
    )
    await session.flush()
    admin = User(
        organization_id=org.id, email=body.admin_email, name=body.admin_name.strip(), role=Role.ADMIN
    )
    session.add(admin)
    await session.flush()
    await send_user_invitation(session, runtime, TenantContext.system(org.id), admin, invited_by_id=None)
    _record(session, actor, "admin.organization_created", org.id, adminUserId=admin.id, plan=org.plan.value)
    return org, admin


async def organization_counts(session: AsyncSession, org_id: str) -> OrganizationCounts:
    return OrganizationCounts(**await OrganizationRepository(session).organization_counts(org_id))


def _apply(org: Organization, body: UpdateOrganization) -> dict[str, Any]:
    """Set what the body changes; answer ``{field: {"from", "to"}}`` for the audit log."""
    changes: dict[str, Any] = {}
    wanted = body.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in wanted:
        wanted["name"] = wanted["name"].strip()
    if body.limit_overrides is not None:
        wanted["limit_overrides"] = dict(body.limit_overrides)
    for field, value in wanted.items():
        current = getattr(org, field)
        if current != value:
            changes[field] = {"from": _plain(current), "to": _plain(value)}
            setattr(org, field, value)
    return changes


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


async def update_organization(
    session: AsyncSession, actor: Actor, org_id: str, body: UpdateOrganization
) -> Organization:
    org = await OrganizationRepository(session).get_or_404(org_id)
    changes = _apply(org, body)
    if changes:
        await session.flush()
        _record(session, actor, "admin.organization_updated", org.id, changes=changes)
    return org


async def _selected(
    repo: OrganizationRepository, selection: BulkSelection
) -> tuple[list[Organization], list[str]]:
    """The organizations a selection names, and the ids that name none."""
    if selection.mode == "ids":
        ids = list(dict.fromkeys(selection.ids or []))
        found = {org.id: org for org in await repo.list(repo.select().where(Organization.id.in_(ids)))}
        return [found[i] for i in ids if i in found], [i for i in ids if i not in found]
    try:
        wanted = OrganizationFilter.model_validate(selection.filter or {})
    except ValidationError as exc:
        raise ValidationFailed(
            "Invalid request: selection.filter",
            details=[
                {"field": ".".join(["selection", "filter", *map(str, e["loc"])]), "message": e["msg"]}
                for e in exc.errors()
            ],
        ) from exc
    return list(await repo.list(repo.matching(wanted).order_by(Organization.id))), []


async def bulk_change_status(session: AsyncSession, actor: Actor, body: OrganizationBulk) -> BulkResult:
    status = BULK_STATUS[body.action]
    orgs, missing = await _selected(OrganizationRepository(session), body.selection)
    for org in orgs:
        if org.status != status:
            previous = org.status
            org.status = status
            _record(
                session,
                actor,
                "admin.organization_updated",
                org.id,
                changes={"status": {"from": previous.value, "to": status.value}},
                bulkAction=body.action,
            )
    await session.flush()
    return BulkResult(
        action=body.action,
        requested=len(orgs) + len(missing),
        succeeded=len(orgs),
        succeeded_ids=[org.id for org in orgs],
        failed=[BulkFailure(id=i, code="NOT_FOUND", message="Organization not found") for i in missing],
    )


async def resend_invite(
    session: AsyncSession, runtime: Runtime, actor: Actor, org_id: str, user_id: str
) -> User:
    repo = OrganizationRepository(session)
    org = await repo.get_or_404(org_id)
    user = await repo.user_of(org.id, user_id)
    if user is None:
        raise NotFound("User not found")
    if not user.is_active:
        raise Conflict("The user is deactivated", code="USER_INACTIVE")
    await send_user_invitation(session, runtime, TenantContext.system(org.id), user, invited_by_id=None)
    _record(session, actor, "admin.invite_resent", org.id, userId=user.id)
    return user


async def enter_organization(
    session: AsyncSession, runtime: Runtime, actor: Actor, org_id: str
) -> tuple[User, Organization, TokenPair]:
    """Tokens with which the super admin acts inside ``org_id`` as its ADMIN (marked as impersonation).

    Suspended and cancelled organizations can be entered too: the operator may need to look inside."""
    org = await OrganizationRepository(session).get_or_404(org_id)
    user = await session.get(User, actor.principal.require_user())
    if user is None:
        raise NotFound("User not found")
    pair = start_session(session, runtime, user, acting_org=org.id)
    _record(session, actor, "admin.enter_org", org.id)
    return user, org, pair
