"""Bot sessions: one stretch of a conversation in BOT_HANDLING (``cxinbox.models.bot_sessions``).

Database triggers open a session when a conversation enters BOT_HANDLING and close it when it leaves
(ESCALATED for OPEN or HUMAN_HANDLING, RESOLVED_CONFIRMED for CLOSED), so no code path that moves a
status can forget one. What is left here:

- ABANDONED: every few minutes a job closes the open sessions whose customer has written nothing
  for ``CXINBOX_BOT_SESSION_ABANDON_HOURS`` (default 24) since the session started. The
  conversation keeps its status; if the customer writes again, ``current`` opens a new session.
- ``return-to-bot``: the agent's ``handoffSummary`` is stored on the session it opens, and
  ``handoff_summary_of`` gives it to the bot's turns while that session lasts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.conversations import assignment
from cxinbox.conversations.repository import visible_conversation
from cxinbox.core.clock import utcnow
from cxinbox.core.db import dialect_insert
from cxinbox.core.ids import new_id
from cxinbox.core.jobs import job
from cxinbox.core.scheduler import periodic
from cxinbox.models.bot import BotConfig
from cxinbox.models.bot_sessions import BotSession, BotSessionClosure
from cxinbox.models.inbox import Conversation, ConversationStatus
from cxinbox.runtime import Runtime

#: how often the job looks for abandoned sessions
ABANDON_CHECK_SECONDS = 300

#: a session still open (at most one per conversation: a partial unique index)
OPEN = BotSession.ended_at.is_(None)


async def open_session(session: AsyncSession, conversation: Conversation) -> BotSession | None:
    """The conversation's open session, if any."""
    return await session.scalar(
        select(BotSession).where(
            BotSession.organization_id == conversation.organization_id,
            BotSession.conversation_id == conversation.id,
            OPEN,
        )
    )


async def current(session: AsyncSession, conversation: Conversation) -> BotSession | None:
    """The open session of a BOT_HANDLING conversation, opened now when there is none (its customer
    came back after the last one was abandoned); None when the bot does not have it."""
    if conversation.status is not ConversationStatus.BOT_HANDLING:
        return None
    found = await open_session(session, conversation)
    if found is not None:
        return found
    now = utcnow()
    active = (
        select(BotConfig.id)
        .where(BotConfig.organization_id == conversation.organization_id, BotConfig.is_active.is_(True))
        .limit(1)
        .scalar_subquery()
    )
    values = {
        "id": new_id(),
        "organization_id": conversation.organization_id,
        "conversation_id": conversation.id,
        "bot_config_id": active,
        "started_at": now,
        "created_at": now,
        "updated_at": now,
    }
    await session.execute(dialect_insert(session)(BotSession).values(**values).on_conflict_do_nothing())
    return await open_session(session, conversation)


async def handoff_summary_of(session: AsyncSession, conversation: Conversation) -> str | None:
    """What the agent who returned the conversation to the bot wrote for it, while the session that
    return opened lasts (context for the bot's turns)."""
    found = await open_session(session, conversation)
    return found.handoff_summary if found is not None else None


async def return_to_bot(
    session: AsyncSession, principal: Principal, conversation_id: str, handoff_summary: str | None
) -> Conversation:
    """``POST /conversations/{id}/return-to-bot``: 404 unless visible, 403 for an agent and someone
    else's conversation, 409 BOT_NOT_AVAILABLE without an active config, else BOT_HANDLING (the
    assignee released, a timeline entry) with the summary on the session the move opened."""
    conversation = await visible_conversation(session, principal, conversation_id)
    conversation = await assignment.return_to_bot(session, principal, conversation)
    summary = (handoff_summary or "").strip() or None
    await session.execute(
        update(BotSession)
        .where(
            BotSession.organization_id == conversation.organization_id,
            BotSession.conversation_id == conversation.id,
            OPEN,
        )
        .values(handoff_summary=summary, returned_by_id=principal.user_id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return conversation


async def abandon_quiet(session: AsyncSession, now: datetime, hours: float) -> int:
    """Close ABANDONED every open session (all organizations) started more than ``hours`` ago
    whose customer has not written since ``hours`` ago; how many. One UPDATE: two workers never
    close one twice."""
    cutoff = now - timedelta(hours=hours)
    quiet = select(Conversation.id).where(
        or_(Conversation.last_inbound_at.is_(None), Conversation.last_inbound_at <= cutoff)
    )
    result = await session.execute(
        update(BotSession)
        .where(OPEN, BotSession.started_at <= cutoff, BotSession.conversation_id.in_(quiet))
        .values(ended_at=now, closure_type=BotSessionClosure.ABANDONED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@periodic(every_seconds=ABANDON_CHECK_SECONDS)
@job("bot.abandon_sessions", attempts=1)
async def abandon_sessions(runtime: Runtime, session: AsyncSession) -> None:
    await abandon_quiet(session, utcnow(), runtime.settings.bot_session_abandon_hours)
