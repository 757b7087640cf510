"""The conversation's timeline: every move of its status, assignee or team, who made it and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.models.inbox import ActorType, ConversationTimelineEntry, TimelineKind

#: the most recent entries a conversation's detail shows
DETAIL_ENTRIES = 200


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        if principal.user_id is not None:
            return cls(ActorType.USER, principal.user_id)
        return cls(ActorType.API_KEY, principal.api_key_id)


SYSTEM = Actor(ActorType.SYSTEM)
CUSTOMER = Actor(ActorType.CUSTOMER)


def record(
    session: AsyncSession,
    organization_id: str,
    conversation_id: str,
    kind: TimelineKind,
    before: str | None,
    after: str | None,
    actor: Actor,
    reason: str,
) -> None:
    session.add(
        ConversationTimelineEntry(
            organization_id=organization_id,
            conversation_id=conversation_id,
            kind=kind,
            from_value=before,
            to_value=after,
            actor_type=actor.type,
            actor_id=actor.id,
            reason=reason,
        )
    )


async def recent_entries(session: AsyncSession, conversation_id: str) -> Sequence[ConversationTimelineEntry]:
    """The latest entries, oldest first (the caller has checked the conversation is visible)."""
    rows = await session.scalars(
        select(ConversationTimelineEntry)
        .where(ConversationTimelineEntry.conversation_id == conversation_id)
        .order_by(ConversationTimelineEntry.created_at.desc(), ConversationTimelineEntry.id.desc())
        .limit(DETAIL_ENTRIES)
    )
    return list(reversed(rows.all()))
