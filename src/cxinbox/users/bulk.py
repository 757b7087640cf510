"""``POST /users/bulk``: one action over users chosen by ids or by the list's filters.

Each user is checked and changed on its own; a user that cannot take the action is reported in
``failed`` with the reason and the others go ahead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.service import record
from cxinbox.auth.principal import Principal
from cxinbox.core.bulk import MAX_BULK_IDS, BulkFailure, BulkResult, select_items
from cxinbox.core.errors import AppError, ValidationFailed
from cxinbox.models.identity import User
from cxinbox.runtime import Runtime
from cxinbox.users import service
from cxinbox.users.repository import UserRepository
from cxinbox.users.schemas import BulkUsers, UserFilter

UserAction = Callable[[User], Awaitable[None]]


async def run(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: BulkUsers, ip: str
) -> BulkResult:
    action = _action(session, runtime, principal, body, ip)
    ids, users = await _select(session, principal, body)
    result = BulkResult(action=body.action, requested=len(ids), succeeded=0)
    for user_id in ids:
        user = users.get(user_id)
        if user is None:
            result.failed.append(BulkFailure(id=user_id, code="NOT_FOUND", message="User not found"))
            continue
        try:
            await action(user)
        except AppError as exc:
            result.failed.append(BulkFailure(id=user_id, code=exc.code, message=exc.message))
            continue
        result.succeeded += 1
        result.succeeded_ids.append(user_id)
    record(
        session,
        principal,
        f"user.bulk_{body.action}",
        target_type="user",
        target_id=None,
        details={"succeeded": result.succeeded_ids, "failed": len(result.failed)},
        ip=ip,
    )
    return result


async def _select(
    session: AsyncSession, principal: Principal, body: BulkUsers
) -> tuple[list[str], dict[str, User]]:
    repo = UserRepository(session, principal.tenant)

    async def by_filter(criteria: UserFilter) -> list[User]:
        return list(await repo.list(repo.filtered(criteria).limit(MAX_BULK_IDS)))

    return await select_items(
        body.selection, by_ids=repo.by_ids, filter_model=UserFilter, by_filter=by_filter
    )


def _action(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: BulkUsers, ip: str
) -> UserAction:
    tenant = principal.tenant

    async def set_active(user: User, active: bool) -> None:
        if user.is_active != active:
            await service.set_active(session, principal, user, active, ip)
            await service.publish_user(session, runtime, tenant, "user.updated", user)

    async def set_role(user: User) -> None:
        assert body.role is not None
        if user.role != body.role:
            await service.change_role(session, principal, user, body.role, ip)
            await service.publish_user(session, runtime, tenant, "user.updated", user)

    async def resend_invite(user: User) -> None:
        await service.send_user_invitation(
            session, runtime, principal.tenant, user, invited_by_id=principal.user_id
        )

    if body.action == "setRole" and body.role is None:
        raise ValidationFailed.field("role", "is required for action setRole")
    actions: dict[str, UserAction] = {
        "delete": lambda user: service.remove_user(session, principal, user, ip),
        "activate": lambda user: set_active(user, True),
        "deactivate": lambda user: set_active(user, False),
        "setRole": set_role,
        "resendInvite": resend_invite,
    }
    return actions[body.action]
