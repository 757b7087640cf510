from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.repository import TenantRepository
from cxinbox.models.invitations import Invitation, InvitationStatus


class InvitationRepository(TenantRepository[Invitation]):
    model = Invitation
    not_found_message = "Invitation not found"

    def newest_first(self, status: InvitationStatus | None, now: datetime) -> Select[tuple[Invitation]]:
        stmt = self.select().order_by(Invitation.created_at.desc(), Invitation.id.desc())
        match status:
            case InvitationStatus.PENDING:
                stmt = stmt.where(Invitation.pending_at(now))
            case InvitationStatus.ACCEPTED:
                stmt = stmt.where(Invitation.accepted_at.is_not(None))
            case InvitationStatus.REVOKED:
                stmt = stmt.where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_not(None))
            case InvitationStatus.EXPIRED:
                stmt = stmt.where(
                    Invitation.accepted_at.is_(None),
                    Invitation.revoked_at.is_(None),
                    Invitation.expires_at <= now,
                )
        return stmt


async def find_by_token_hash(session: AsyncSession, token_hash: str) -> Invitation | None:
    """Cross-tenant on purpose: the public link names no organization, its token finds it."""
    return await session.scalar(select(Invitation).where(Invitation.token_hash == token_hash))


async def claim(session: AsyncSession, invitation_id: str, now: datetime) -> bool:
    """Mark the invitation accepted unless another request did first (single use under concurrency)."""
    result = await session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation_id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
