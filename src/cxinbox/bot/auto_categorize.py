"""``auto-categorize``: a conversation is classified (the active config's categories) after its first
customer message and again when the bot hands it off, then routed again, since routing rules may
read the category. The provider is called outside any transaction; a failed call changes nothing."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import LlmError
from cxinbox.bot import llm, usage
from cxinbox.bot.conversation_ai import apply_category, classification_request
from cxinbox.bot.errors import BotNotConfigured
from cxinbox.bot.setup import setup_of
from cxinbox.conversations.summary import reload
from cxinbox.conversations.timeline import SYSTEM
from cxinbox.core.db import release_transaction
from cxinbox.core.jobs import Queue, enqueue, job
from cxinbox.models.inbox import Conversation, ConversationStatus
from cxinbox.routing.engine import route_conversation
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)


def classify_later(session: AsyncSession, conversation_id: str) -> None:
    enqueue(session, classify_conversation, conversation_id=conversation_id)


@job("bot.classify", queue=Queue.DEFAULT, attempts=2)
async def classify_conversation(runtime: Runtime, session: AsyncSession, conversation_id: str) -> None:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.status is ConversationStatus.CLOSED:
        return
    setup = await setup_of(session, conversation.organization_id)
    config = setup.config
    if config is None or not setup.settings.auto_categorize or not config.categories:
        return
    request = await classification_request(session, config, conversation)
    await release_transaction(session)
    try:
        answer = await llm.call(runtime, llm.target_of(runtime, config), request)
    except (LlmError, BotNotConfigured) as exc:
        log.info("auto_categorize_failed", conversation_id=conversation_id, error=str(exc))
        return
    await usage.record(session, conversation.organization_id, answer.completion.usage)
    conversation = await apply_category(
        session, config, await reload(session, conversation_id), answer.completion, SYSTEM
    )
    if conversation.status is not ConversationStatus.BOT_HANDLING:  # the bot's are routed at handoff
        await route_conversation(session, conversation)
