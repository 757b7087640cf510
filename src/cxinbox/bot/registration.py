"""What the bot area plugs into every process (see ``cxinbox.areas``): the plan counter
``monthlyBotReplies``, who sees its events (admins and supervisors, who read the configs), whether
the inbox may hand a conversation to the bot (an active config), and the periodic check that closes
abandoned bot sessions."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.bot import (
    langfuse,  # noqa: F401 - its @job exports turn traces
    sessions,  # noqa: F401 - its @job/@periodic closes abandoned sessions
)
from cxinbox.bot.configs import active_config
from cxinbox.bot.usage import monthly_replies
from cxinbox.conversations.bot_handover import on_bot_check
from cxinbox.models.identity import Role
from cxinbox.plans.limits import MONTHLY_BOT_REPLIES, register_usage
from cxinbox.realtime.visibility import EventPredicate, register_event_filter

BOT_CONFIG_EVENTS = "bot_config."


async def managers(_session: AsyncSession, principal: Principal) -> EventPredicate:
    allowed = principal.has_role(Role.ADMIN, Role.SUPERVISOR)
    return lambda _event: allowed


async def has_active_config(session: AsyncSession, principal: Principal) -> bool:
    return await active_config(session, principal) is not None


def register() -> None:
    on_bot_check(has_active_config)
    register_event_filter(BOT_CONFIG_EVENTS, managers)
    register_usage(MONTHLY_BOT_REPLIES)(monthly_replies)
