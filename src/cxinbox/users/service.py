"""Rules for the people of an organization.

A user created by an admin is active at once but has no password: they get an invitation link
(accepting it sets their name and password) and may also sign in with an emailed one-time code.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.service import record
from cxinbox.auth.principal import Principal
from cxinbox.auth.refresh import revoke_user_sessions
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import Conflict, Forbidden, ValidationFailed
from cxinbox.core.events import publish_event
from cxinbox.core.pagination import PageParams, paginate
from cxinbox.core.tenancy import TenantContext
from cxinbox.invitations.links import issue_invitation, send_again
from cxinbox.models.identity import Presence, Role, User
from cxinbox.models.invitations import Invitation
from cxinbox.runtime import Runtime
from cxinbox.users.hooks import release_user_work
from cxinbox.users.repository import TeamMembershipRepository, UserRepository
from cxinbox.users.schemas import CreateUser, UpdateUser, UserFilter
from cxinbox.users.seats import ensure_seat_available
from cxinbox.users.serializers import present_user, wire

MANAGERS = (Role.ADMIN, Role.SUPERVISOR)


class CannotModifySelf(Conflict):
    code = "CANNOT_MODIFY_SELF"
    message = "You cannot remove, deactivate or demote your own account"


class LastAdmin(Conflict):
    code = "LAST_ADMIN"
    message = "The organization must keep at least one active admin"


async def list_users(
    session: AsyncSession, principal: Principal, criteria: UserFilter, page: PageParams
) -> tuple[list[User], int]:
    """Admins and supervisors see everyone; agents see the active people they work with."""
    if not principal.has_role(*MANAGERS):
        criteria = criteria.model_copy(update={"is_active": True})
    return await paginate(session, UserRepository(session, principal.tenant).filtered(criteria), page)


async def get_user(session: AsyncSession, tenant: TenantContext, user_id: str) -> User:
    return await UserRepository(session, tenant).get_or_404(user_id)


async def ensure_no_account(session: AsyncSession, email: str) -> None:
    """An email is one account on the whole platform (deleting a user frees theirs: ``remove_user``)."""
    if await session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(
            "An account with this email already exists",
            code="EMAIL_TAKEN",
            details=[{"field": "email", "message": "already has an account"}],
        )


async def ensure_email_available(session: AsyncSession, tenant: TenantContext, email: str) -> None:
    """No account yet, and no pending invitation of this organization for the address."""
    await ensure_no_account(session, email)
    pending = await session.scalar(
        select(Invitation.id).where(
            Invitation.organization_id == tenant.organization_id,
            Invitation.email == email,
            Invitation.pending_at(utcnow()),
        )
    )
    if pending:
        raise Conflict(
            "This email already has a pending invitation",
            code="ALREADY_INVITED",
            details=[{"field": "email", "message": "already invited"}],
        )


async def ensure_teams_exist(session: AsyncSession, tenant: TenantContext, team_ids: Sequence[str]) -> None:
    unknown = await TeamMembershipRepository(session, tenant).unknown_team_ids(team_ids)
    if unknown:
        raise ValidationFailed(
            "teamIds: unknown team",
            details=[{"field": "teamIds", "message": f"unknown team {team_id}"} for team_id in unknown],
        )


async def existing_teams(session: AsyncSession, tenant: TenantContext, team_ids: Sequence[str]) -> list[str]:
    """``team_ids`` without those deleted since they were chosen."""
    unknown = set(await TeamMembershipRepository(session, tenant).unknown_team_ids(team_ids))
    return [team_id for team_id in team_ids if team_id not in unknown]


async def add_member(
    session: AsyncSession,
    tenant: TenantContext,
    *,
    email: str,
    name: str,
    role: Role,
    team_ids: Sequence[str],
    password_hash: str | None = None,
) -> User:
    """Store a new person of the organization (the caller has checked email, teams and seats)."""
    user = User(
        organization_id=tenant.organization_id,
        email=email,
        name=name.strip(),
        role=role,
        is_active=True,
        password_hash=password_hash,
    )
    session.add(user)
    await session.flush()
    await TeamMembershipRepository(session, tenant).replace(user.id, team_ids)
    return user


async def create_user(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: CreateUser, ip: str
) -> User:
    tenant = principal.tenant
    await ensure_email_available(session, tenant, body.email)
    await ensure_teams_exist(session, tenant, body.team_ids)
    await ensure_seat_available(session, tenant.organization_id)
    user = await add_member(
        session, tenant, email=body.email, name=body.name, role=body.role, team_ids=body.team_ids
    )
    await send_user_invitation(session, runtime, tenant, user, invited_by_id=principal.user_id)
    _audit(session, principal, "user.created", user, ip, role=user.role.value)
    await publish_user(session, runtime, tenant, "user.created", user)
    return user


async def update_user(
    session: AsyncSession, runtime: Runtime, principal: Principal, user_id: str, body: UpdateUser, ip: str
) -> User:
    tenant = principal.tenant
    user = await get_user(session, tenant, user_id)
    if body.team_ids is not None:
        await ensure_teams_exist(session, tenant, body.team_ids)
    if body.role is not None and body.role != user.role:
        await change_role(session, principal, user, body.role, ip)
    if body.is_active is not None and body.is_active != user.is_active:
        await set_active(session, principal, user, body.is_active, ip)
    if body.name is not None:
        user.name = body.name.strip()
    if body.team_ids is not None:
        await TeamMembershipRepository(session, tenant).replace(user.id, body.team_ids)
    user.updated_at = utcnow()
    await publish_user(session, runtime, tenant, "user.updated", user)
    return user


async def change_role(session: AsyncSession, principal: Principal, user: User, role: Role, ip: str) -> None:
    if user.role == Role.ADMIN:
        await _guard_admin_loss(session, principal, user)
    previous = user.role
    user.role = role
    _audit(session, principal, "user.role_changed", user, ip, previous=previous.value, role=role.value)


async def set_active(session: AsyncSession, principal: Principal, user: User, active: bool, ip: str) -> None:
    if active:
        await ensure_seat_available(session, principal.tenant.organization_id)
        user.is_active = True
        _audit(session, principal, "user.activated", user, ip)
        return
    await _guard_admin_loss(session, principal, user)
    await _sign_out_and_release(session, principal.tenant, user)
    user.is_active = False
    user.status = Presence.OFFLINE
    _audit(session, principal, "user.deactivated", user, ip)


async def delete_user(session: AsyncSession, principal: Principal, user_id: str, ip: str) -> None:
    """Soft delete: the row and its history stay; the person can no longer sign in or be assigned."""
    tenant = principal.tenant
    await remove_user(session, principal, await get_user(session, tenant, user_id), ip)


def released_email(user_id: str) -> str:
    """The address a deleted user keeps, so that theirs is free for a new account (the deletion's
    audit entry keeps it). It cannot collide: it names the user, and ``.invalid`` is a reserved
    domain (RFC 2606) that no one can sign up with."""
    return f"deleted+{user_id}@deleted.invalid"


async def remove_user(session: AsyncSession, principal: Principal, user: User, ip: str) -> None:
    """Soft delete: sign out, release work, leave the teams, revoke open invitations, free the email."""
    await _guard_admin_loss(session, principal, user)
    await _sign_out_and_release(session, principal.tenant, user)
    await TeamMembershipRepository(session, principal.tenant).remove_user(user.id)
    now = utcnow()
    await session.execute(
        update(Invitation)
        .where(
            Invitation.user_id == user.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    user.deleted_at = now
    user.is_active = False
    user.status = Presence.OFFLINE
    _audit(session, principal, "user.deleted", user, ip, email=user.email)
    user.email = released_email(user.id)
    publish_event(session, principal.tenant.organization_id, "user.deleted", {"id": user.id})


async def resend_invite(session: AsyncSession, runtime: Runtime, principal: Principal, user_id: str) -> User:
    tenant = principal.tenant
    user = await get_user(session, tenant, user_id)
    await send_user_invitation(session, runtime, tenant, user, invited_by_id=principal.user_id)
    return user


async def send_user_invitation(
    session: AsyncSession, runtime: Runtime, tenant: TenantContext, user: User, *, invited_by_id: str | None
) -> None:
    """Mail a fresh welcome link to a user who has not set a password yet (the still-open invitation's,
    renewed, or a new one)."""
    if user.password_hash is not None:
        raise Conflict("The user has already accepted the invitation", code="ALREADY_ACCEPTED")
    if not user.is_active:
        raise Conflict("The user is deactivated; activate them first", code="USER_INACTIVE")
    invitation = await session.scalar(
        select(Invitation)
        .where(
            Invitation.user_id == user.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
        )
        .order_by(Invitation.created_at.desc())
        .limit(1)
    )
    if invitation is not None:
        await send_again(session, runtime, invitation)
        return
    await issue_invitation(
        session,
        runtime,
        tenant,
        email=user.email,
        role=user.role,
        name=user.name,
        user_id=user.id,
        invited_by_id=invited_by_id,
    )


async def set_presence(
    session: AsyncSession, runtime: Runtime, principal: Principal, user_id: str, status: Presence
) -> User:
    user = await get_user(session, principal.tenant, user_id)
    if user.id != principal.user_id:
        raise Forbidden("You can only change your own status")
    user.status = status
    await publish_user(session, runtime, principal.tenant, "user.updated", user)
    return user


async def publish_user(
    session: AsyncSession, runtime: Runtime, tenant: TenantContext, type: str, user: User
) -> None:
    await session.flush()
    view = await present_user(session, runtime, tenant, user)
    publish_event(session, tenant.organization_id, type, wire(view))


async def _guard_admin_loss(session: AsyncSession, principal: Principal, user: User) -> None:
    if user.id == principal.user_id:
        raise CannotModifySelf()
    if user.role == Role.ADMIN and user.is_active:
        others = await UserRepository(session, principal.tenant).count_active_admins(excluding=user.id)
        if others == 0:
            raise LastAdmin()


async def _sign_out_and_release(session: AsyncSession, tenant: TenantContext, user: User) -> None:
    await revoke_user_sessions(session, user.id)
    await release_user_work(session, tenant, user.id)


def _audit(
    session: AsyncSession, principal: Principal, action: str, user: User, ip: str, **details: str
) -> None:
    record(session, principal, action, target_type="user", target_id=user.id, details=details, ip=ip)
