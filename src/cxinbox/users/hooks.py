"""What happens elsewhere when a user stops working (deleted or deactivated).

The inbox area registers here how it releases the user's open conversations back to their queue;
this area only calls ``release_user_work``, so it never imports the inbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.tenancy import TenantContext

UserLeavingHook = Callable[[AsyncSession, TenantContext, str], Awaitable[None]]

_HOOKS: list[UserLeavingHook] = []


def on_user_leaving(hook: UserLeavingHook) -> UserLeavingHook:
    """Register ``hook(session, tenant, user_id)``; it runs in the deleting request's transaction."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


async def release_user_work(session: AsyncSession, tenant: TenantContext, user_id: str) -> None:
    for hook in _HOOKS:
        await hook(session, tenant, user_id)
