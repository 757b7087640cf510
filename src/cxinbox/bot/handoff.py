"""The bot hands a conversation to the humans: BOT_HANDLING → OPEN through the status machine (a
compare-and-set, so an agent who took over meanwhile wins), the reason on the timeline, then its
team: the intent's team when it names one, else routing (``route_conversation``); with
``auto-categorize`` on, it is classified again (and routed again) after the commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.bot.auto_categorize import classify_later
from cxinbox.conversations import changes
from cxinbox.conversations.timeline import SYSTEM
from cxinbox.models.inbox import Conversation, ConversationStatus
from cxinbox.routing.engine import route_conversation


async def hand_off(
    session: AsyncSession,
    conversation: Conversation,
    reason: str,
    *,
    team_id: str | None = None,
    classify: bool = False,
) -> bool:
    """Hand ``conversation`` over; False when it was no longer the bot's (nothing changes)."""

    def decide(c: Conversation) -> dict[str, Any]:
        if c.status is not ConversationStatus.BOT_HANDLING:
            return {}
        values: dict[str, Any] = changes.moving_to(c, ConversationStatus.OPEN)
        if team_id is not None:
            values["team_id"] = team_id
        return values

    conversation = await changes.apply(session, conversation, decide, SYSTEM, reason)
    if conversation.status is not ConversationStatus.OPEN:
        return False
    if team_id is None:
        await route_conversation(session, conversation)
    if classify:
        classify_later(session, conversation.id)
    return True
