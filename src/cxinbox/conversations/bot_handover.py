"""Whether a bot can take a conversation (a move to ``BOT_HANDLING``, by ``PATCH status`` or by
``return-to-bot``). The inbox knows no bot: the bot area registers the check, and without it (or
when it says no) the move is refused with 409 ``BOT_NOT_AVAILABLE`` rather than leaving the
customer with nobody answering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.core.errors import Conflict

#: ``check(session, principal)``: True when the principal's organization has a bot to answer
BotCheck = Callable[[AsyncSession, Principal], Awaitable[bool]]

_CHECKS: list[BotCheck] = []


class BotNotAvailable(Conflict):
    code = "BOT_NOT_AVAILABLE"
    message = "The organization has no active bot config"


def on_bot_check(check: BotCheck) -> BotCheck:
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


async def ensure_bot_can_take(session: AsyncSession, principal: Principal) -> None:
    for check in _CHECKS:
        if await check(session, principal):
            return
    raise BotNotAvailable("No active bot config can take the conversation")
