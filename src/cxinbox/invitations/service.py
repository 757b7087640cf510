"""Rules of invitations. Pending invitations that will create a user hold a seat of the plan."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.service import record
from cxinbox.auth.credentials import ensure_organization_usable
from cxinbox.auth.principal import Principal
from cxinbox.auth.refresh import TokenPair, start_session
from cxinbox.core.bulk import BulkFailure
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import AppError, Conflict, NotFound
from cxinbox.core.pagination import PageParams, paginate
from cxinbox.core.tenancy import TenantContext
from cxinbox.invitations import repository
from cxinbox.invitations.links import issue_invitation, send_again
from cxinbox.invitations.repository import InvitationRepository
from cxinbox.invitations.schemas import AcceptInvitation, CreateInvitation
from cxinbox.models.identity import Organization, User
from cxinbox.models.invitations import Invitation, InvitationStatus
from cxinbox.runtime import Runtime
from cxinbox.users import service as users
from cxinbox.users.seats import ensure_seat_available


class InvitationGone(AppError):
    """The link was valid once: expired, revoked or already used."""

    status_code = 410
    code = "INVITATION_GONE"
    message = "The invitation can no longer be used"


_GONE = {
    InvitationStatus.EXPIRED: ("INVITATION_EXPIRED", "The invitation has expired; ask for a new one"),
    InvitationStatus.REVOKED: ("INVITATION_REVOKED", "The invitation was revoked"),
    InvitationStatus.ACCEPTED: ("INVITATION_ALREADY_ACCEPTED", "The invitation was already accepted"),
}


def _gone(status: InvitationStatus) -> InvitationGone:
    code, message = _GONE[status]
    return InvitationGone(message, code=code)


async def list_invitations(
    session: AsyncSession, tenant: TenantContext, status: InvitationStatus | None, page: PageParams
) -> tuple[list[Invitation], int]:
    stmt = InvitationRepository(session, tenant).newest_first(status, utcnow())
    return await paginate(session, stmt, page)


async def create(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: CreateInvitation, ip: str
) -> Invitation:
    tenant = principal.tenant
    await users.ensure_email_available(session, tenant, body.email)
    await users.ensure_teams_exist(session, tenant, body.team_ids)
    await ensure_seat_available(session, tenant.organization_id)
    invitation = await issue_invitation(
        session,
        runtime,
        tenant,
        email=body.email,
        role=body.role,
        name=body.name.strip() if body.name else None,
        team_ids=body.team_ids,
        invited_by_id=principal.user_id,
    )
    _audit(session, principal, "invitation.created", invitation, ip, email=invitation.email)
    return invitation


async def create_many(
    session: AsyncSession, runtime: Runtime, principal: Principal, bodies: list[CreateInvitation], ip: str
) -> tuple[list[Invitation], list[BulkFailure]]:
    """Invite each address on its own; the ones that cannot be invited are reported with why."""
    created: list[Invitation] = []
    failed: list[BulkFailure] = []
    for body in bodies:
        try:
            created.append(await create(session, runtime, principal, body, ip))
        except AppError as exc:
            failed.append(BulkFailure(id=body.email, code=exc.code, message=exc.message))
    return created, failed


async def resend(
    session: AsyncSession, runtime: Runtime, principal: Principal, invitation_id: str
) -> Invitation:
    invitation = await InvitationRepository(session, principal.tenant).get_or_404(invitation_id)
    status = invitation.status_at(utcnow())
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.REVOKED):
        raise Conflict(_GONE[status][1], code=_GONE[status][0])
    if status == InvitationStatus.EXPIRED and invitation.user_id is None:
        await ensure_seat_available(session, principal.tenant.organization_id)  # it takes its seat again
    await send_again(session, runtime, invitation)
    return invitation


async def revoke(session: AsyncSession, principal: Principal, invitation_id: str, ip: str) -> None:
    """The link stops working. A user an admin created stays (delete the user to remove them)."""
    invitation = await InvitationRepository(session, principal.tenant).get_or_404(invitation_id)
    if invitation.accepted_at is not None:
        raise Conflict(_GONE[InvitationStatus.ACCEPTED][1], code=_GONE[InvitationStatus.ACCEPTED][0])
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        _audit(session, principal, "invitation.revoked", invitation, ip, email=invitation.email)


async def find_usable(session: AsyncSession, runtime: Runtime, token: str) -> tuple[Invitation, Organization]:
    """The invitation behind a link: 404 if there is none, 410 if it can no longer be used."""
    invitation = await repository.find_by_token_hash(session, runtime.hasher.hash(token))
    org = await session.get(Organization, invitation.organization_id) if invitation else None
    if invitation is None or org is None:
        raise NotFound("Invitation not found")
    status = invitation.status_at(utcnow())
    if status != InvitationStatus.PENDING:
        raise _gone(status)
    return invitation, org


async def accept(
    session: AsyncSession, runtime: Runtime, token: str, body: AcceptInvitation
) -> tuple[User, TokenPair]:
    invitation, org = await find_usable(session, runtime, token)
    ensure_organization_usable(org)
    now = utcnow()
    if not await repository.claim(session, invitation.id, now):
        raise _gone(InvitationStatus.ACCEPTED)
    password_hash = await runtime.passwords.hash(body.password)
    tenant = TenantContext.system(org.id)  # resolved from the token, not from a credential
    if invitation.user_id is None:
        await users.ensure_no_account(session, invitation.email)
        user = await users.add_member(
            session,
            tenant,
            email=invitation.email,
            name=body.name,
            role=invitation.role,
            team_ids=await users.existing_teams(session, tenant, invitation.team_ids),
            password_hash=password_hash,
        )
        event = "user.created"
    else:
        user = await _invited_user(session, invitation.user_id)
        user.name = body.name.strip()
        user.password_hash = password_hash
        event = "user.updated"
    user.last_login_at = now
    await users.publish_user(session, runtime, tenant, event, user)
    return user, start_session(session, runtime, user)


async def _invited_user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.can_sign_in:
        raise InvitationGone("The invited account was deactivated or removed", code="INVITATION_REVOKED")
    return user


def _audit(
    session: AsyncSession, principal: Principal, action: str, invitation: Invitation, ip: str, **details: str
) -> None:
    record(
        session, principal, action, target_type="invitation", target_id=invitation.id, details=details, ip=ip
    )
