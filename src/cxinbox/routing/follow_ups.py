"""Follow-up reminders: when a conversation's follow-up ``dueAt`` arrives, ``conversation.follow_up_due``
is published (with the conversation) to those who may see it, once per follow-up."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations.events import publish_conversation
from cxinbox.conversations.summary import reload
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import job
from cxinbox.core.scheduler import periodic
from cxinbox.models.inbox import Conversation
from cxinbox.runtime import Runtime


async def announce_due(session: AsyncSession) -> int:
    """Mark the due follow-ups notified (one UPDATE: two workers never announce one twice) and
    publish each; how many."""
    now = utcnow()
    marked = await session.scalars(
        update(Conversation)
        .where(
            Conversation.follow_up_at <= now,
            Conversation.follow_up_notified_at.is_(None),
        )
        .values(follow_up_notified_at=now)
        .returning(Conversation.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(marked)
    for conversation_id in ids:
        publish_conversation(session, await reload(session, conversation_id), "conversation.follow_up_due")
    return len(ids)


@periodic(every_seconds=60)
@job("routing.follow_ups_due", attempts=1)
async def follow_ups_due(runtime: Runtime, session: AsyncSession) -> None:
    await announce_due(session)
