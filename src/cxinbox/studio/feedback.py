"""Feedback on the bot's messages: a member rates a BOT message of a conversation they can see (0
not helpful, 1 helpful); one rating per member and message, a second one replaces the first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.conversations.repository import visible_conversation
from cxinbox.core.errors import NotFound
from cxinbox.core.pagination import KeysetOrder, cursor_page, parse_datetime
from cxinbox.core.wire import CursorMeta
from cxinbox.models.bot_studio import BotFeedback
from cxinbox.models.inbox import Message, SenderType
from cxinbox.studio.schemas import FeedbackOut, SubmitFeedback

NEWEST_FIRST = KeysetOrder(columns=(BotFeedback.created_at, BotFeedback.id), decoders=(parse_datetime, str))


async def submit(
    session: AsyncSession, principal: Principal, body: SubmitFeedback
) -> tuple[BotFeedback, bool]:
    """The rating stored, and whether it is new."""
    conversation = await visible_conversation(session, principal, body.conversation_id)
    message = await session.scalar(
        select(Message.id).where(
            Message.id == body.message_id,
            Message.organization_id == conversation.organization_id,
            Message.conversation_id == conversation.id,
            Message.sender_type == SenderType.BOT,
        )
    )
    if message is None:
        raise NotFound("Bot message not found")
    user_id = str(principal.user_id)
    feedback = await session.scalar(
        select(BotFeedback).where(BotFeedback.message_id == message, BotFeedback.user_id == user_id)
    )
    created = feedback is None
    if feedback is None:
        feedback = BotFeedback(
            organization_id=conversation.organization_id,
            message_id=message,
            conversation_id=conversation.id,
            user_id=user_id,
            rating=body.rating,
        )
        session.add(feedback)
    feedback.rating, feedback.comment = body.rating, body.comment
    await session.flush()
    return feedback, created


async def list_feedback(
    session: AsyncSession, principal: Principal, cursor: str | None, limit: int
) -> tuple[list[FeedbackOut], CursorMeta]:
    stmt = select(BotFeedback).where(BotFeedback.organization_id == principal.tenant.organization_id)
    rows, meta = await cursor_page(
        session, stmt, NEWEST_FIRST, cursor, limit, key=lambda f: (f.created_at, f.id)
    )
    return [FeedbackOut.model_validate(f) for f in rows], meta
