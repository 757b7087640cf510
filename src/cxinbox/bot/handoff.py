"""The bot hands a conversation to the humans: BOT_HANDLING → OPEN through the status machine (a
compare-and-set, so an agent who took over meanwhile wins), the reason on the timeline, then its
team: the intent's team when it names one, else routing (``route_conversation``), after the
conversation is classified again when the organization has ``auto-categorize`` on."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.bot import conversation_ai
from cxinbox.conversations import changes
from cxinbox.conversations.timeline import SYSTEM
from cxinbox.core.errors import AppError
from cxinbox.models.bot import BotConfig
from cxinbox.models.inbox import Conversation, ConversationStatus
from cxinbox.routing.engine import route_conversation
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)


async def hand_off(
    session: AsyncSession,
    runtime: Runtime,
    conversation: Conversation,
    reason: str,
    *,
    team_id: str | None = None,
    classify_with: BotConfig | None = None,
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
        if classify_with is not None:
            conversation = await classify(session, runtime, classify_with, conversation)
        await route_conversation(session, conversation)
    return True


async def classify(
    session: AsyncSession, runtime: Runtime, config: BotConfig, conversation: Conversation
) -> Conversation:
    """Classify with the config's categories; a config without them, or a failed call, changes
    nothing (the turn goes on)."""
    if not config.categories:
        return conversation
    try:
        return await conversation_ai.classify(session, runtime, config, conversation, SYSTEM)
    except AppError as exc:
        log.info("bot_classification_skipped", conversation_id=conversation.id, reason=exc.code)
        return conversation
