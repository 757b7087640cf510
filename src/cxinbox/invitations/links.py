"""Issuing invitation links: a random token (only its hash is stored) mailed as
``{PUBLIC_URL}/invite/{token}``. Used by ``/invitations`` and by ``/users`` (a created user gets one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.email import Mail
from cxinbox.core.clock import utcnow
from cxinbox.core.crypto import random_token
from cxinbox.core.tenancy import TenantContext
from cxinbox.mail.tasks import queue_mail
from cxinbox.models.identity import Organization, Role, User
from cxinbox.models.invitations import Invitation
from cxinbox.runtime import Runtime

INVITATION_TTL = timedelta(days=7)


def invitation_link(runtime: Runtime, token: str) -> str:
    return f"{runtime.settings.public_url.rstrip('/')}/invite/{token}"


async def issue_invitation(
    session: AsyncSession,
    runtime: Runtime,
    tenant: TenantContext,
    *,
    email: str,
    role: Role,
    name: str | None = None,
    team_ids: Sequence[str] = (),
    user_id: str | None = None,
    invited_by_id: str | None = None,
) -> Invitation:
    """Create an invitation and mail its link once the transaction commits (through the mail outbox:
    ``mail_id`` tells whether the email has gone out)."""
    token = random_token()
    now = utcnow()
    invitation = Invitation(
        organization_id=tenant.organization_id,
        email=email,
        name=name,
        role=role,
        team_ids=list(team_ids),
        token_hash=runtime.hasher.hash(token),
        user_id=user_id,
        invited_by_id=invited_by_id,
        expires_at=now + INVITATION_TTL,
        sent_at=now,
        send_count=1,
    )
    session.add(invitation)
    await session.flush()
    await _queue_invitation_mail(session, runtime, invitation, token)
    return invitation


async def send_again(session: AsyncSession, runtime: Runtime, invitation: Invitation) -> None:
    """Mail a fresh link: only token hashes are stored, so the old link stops working."""
    token = random_token()
    now = utcnow()
    invitation.token_hash = runtime.hasher.hash(token)
    invitation.expires_at = now + INVITATION_TTL
    invitation.sent_at = now
    invitation.send_count += 1
    await session.flush()
    await _queue_invitation_mail(session, runtime, invitation, token)


async def _queue_invitation_mail(
    session: AsyncSession, runtime: Runtime, invitation: Invitation, token: str
) -> None:
    org = await session.get(Organization, invitation.organization_id)
    inviter = await session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    org_name = org.name if org else "an organization"
    who = f"{inviter.name} invited you" if inviter else "You are invited"
    outgoing = await queue_mail(
        session,
        runtime,
        Mail(
            to=invitation.email,
            subject=f"You are invited to {org_name} on CX Inbox",
            text=(
                f"{who} to join {org_name} on CX Inbox.\n\n"
                f"Accept the invitation and choose your password here:\n\n"
                f"{invitation_link(runtime, token)}\n\n"
                f"The link expires in {INVITATION_TTL.days} days and works once. "
                "If you did not expect this invitation, ignore this email."
            ),
        ),
    )
    invitation.mail_id = outgoing.id
