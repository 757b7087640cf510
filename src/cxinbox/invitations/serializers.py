"""Invitations as the wire shows them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.invitations.schemas import InvitationOut, Inviter, InvitingOrganization, PublicInvitation
from cxinbox.models.identity import Organization, User
from cxinbox.models.invitations import Invitation
from cxinbox.models.mail import OutgoingMail


async def present_invitations(
    session: AsyncSession, invitations: Sequence[Invitation]
) -> list[InvitationOut]:
    inviter_ids = {i.invited_by_id for i in invitations if i.invited_by_id}
    inviters = {
        u.id: Inviter(id=u.id, name=u.name)
        for u in await session.scalars(select(User).where(User.id.in_(inviter_ids)))
    }
    mail_ids = {i.mail_id for i in invitations if i.mail_id}
    mail_states = {
        mail_id: state
        for mail_id, state in await session.execute(
            select(OutgoingMail.id, OutgoingMail.state).where(OutgoingMail.id.in_(mail_ids))
        )
    }
    now = utcnow()
    return [
        InvitationOut(
            id=i.id,
            email=i.email,
            name=i.name,
            role=i.role,
            team_ids=list(i.team_ids or []),
            status=i.status_at(now),
            user_id=i.user_id,
            invited_by=inviters.get(i.invited_by_id) if i.invited_by_id else None,
            expires_at=i.expires_at,
            sent_at=i.sent_at,
            send_count=i.send_count,
            mail_status=mail_states.get(i.mail_id) if i.mail_id else None,
            accepted_at=i.accepted_at,
            revoked_at=i.revoked_at,
            created_at=i.created_at,
        )
        for i in invitations
    ]


async def present_invitation(session: AsyncSession, invitation: Invitation) -> InvitationOut:
    return (await present_invitations(session, [invitation]))[0]


async def present_public(
    session: AsyncSession, invitation: Invitation, org: Organization
) -> PublicInvitation:
    inviter = await session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    return PublicInvitation(
        email=invitation.email,
        name=invitation.name,
        role=invitation.role,
        status=invitation.status_at(utcnow()),
        expires_at=invitation.expires_at,
        organization=InvitingOrganization(id=org.id, name=org.name),
        invited_by=inviter.name if inviter else None,
    )
