"""``reprocess-pending``: a turn for each conversation the bot holds whose last message is the
customer's, with no bot reply after it (a turn that was lost, or messages that arrived while the
bot was off). Answered at once with what was queued."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.bot.entry import schedule_turn
from cxinbox.bot.errors import BotNotAvailable
from cxinbox.bot.repository import BotConfigRepository
from cxinbox.core.errors import AppError
from cxinbox.models.inbox import Conversation, ConversationStatus, Message, SenderType

#: the senders whose message can be the last one a turn answers or follows
_SPEAKERS = (SenderType.CUSTOMER, SenderType.BOT, SenderType.AGENT)


async def pending(session: AsyncSession, organization_id: str) -> list[str]:
    """The organization's BOT_HANDLING conversations waiting for the bot, oldest activity first."""
    ranked = (
        select(
            Message.conversation_id,
            Message.sender_type,
            func.row_number()
            .over(
                partition_by=Message.conversation_id, order_by=(Message.ordered_at.desc(), Message.id.desc())
            )
            .label("n"),
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.organization_id == organization_id,
            Message.sender_type.in_(_SPEAKERS),
            Conversation.organization_id == organization_id,
            Conversation.status == ConversationStatus.BOT_HANDLING,
        )
        .subquery()
    )
    stmt = select(ranked.c.conversation_id).where(
        ranked.c.n == 1, ranked.c.sender_type == SenderType.CUSTOMER
    )
    return list(await session.scalars(stmt.order_by(ranked.c.conversation_id)))


async def reprocess_pending(session: AsyncSession, principal: Principal) -> dict[str, int]:
    if await BotConfigRepository(session, principal.tenant).active() is None:
        raise BotNotAvailable()
    waiting = await pending(session, principal.tenant.organization_id)
    reprocessed = errors = 0
    for conversation_id in waiting:
        try:
            await schedule_turn(session, conversation_id)
        except AppError:
            errors += 1
        else:
            reprocessed += 1
    return {"reprocessed": reprocessed, "errors": errors, "total": len(waiting)}
