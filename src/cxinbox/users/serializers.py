"""Users as the wire shows them: with their teams, avatar URL and invitation state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.tenancy import TenantContext
from cxinbox.files.service import file_url
from cxinbox.models.identity import User
from cxinbox.runtime import Runtime
from cxinbox.users.repository import TeamMembershipRepository, pending_invitation_user_ids
from cxinbox.users.schemas import UserOut, UserTeam


async def present_users(
    session: AsyncSession, runtime: Runtime, tenant: TenantContext, users: Sequence[User]
) -> list[UserOut]:
    ids = [u.id for u in users]
    teams = await TeamMembershipRepository(session, tenant).teams_of(ids)
    invited = await pending_invitation_user_ids(session, tenant, ids, utcnow())
    return [
        UserOut(
            id=u.id,
            email=u.email,
            name=u.name,
            role=u.role,
            status=u.status,
            is_active=u.is_active,
            organization_id=u.organization_id,
            created_at=u.created_at,
            updated_at=u.updated_at,
            last_login_at=u.last_login_at,
            avatar_url=file_url(runtime, u.avatar_key) if u.avatar_key else None,
            teams=[UserTeam(id=t.id, name=t.name, role=m.role) for t, m in teams.get(u.id, [])],
            has_password=u.password_hash is not None,
            invitation_pending=u.id in invited,
            deleted_at=u.deleted_at,
            language=u.language,
        )
        for u in users
    ]


async def present_user(session: AsyncSession, runtime: Runtime, tenant: TenantContext, user: User) -> UserOut:
    return (await present_users(session, runtime, tenant, [user]))[0]


def wire(model: UserOut) -> dict[str, Any]:
    """The JSON-ready form events carry."""
    return model.model_dump(mode="json", by_alias=True)
