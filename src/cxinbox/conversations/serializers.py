"""Conversations on the wire (``ConversationOut`` is also the payload of the conversation events)."""

from __future__ import annotations

from collections.abc import Sequence

from cxinbox.conversations.schemas import ActorOut, ConversationDetail, ConversationOut, TimelineEntryOut
from cxinbox.models.inbox import Conversation, ConversationTimelineEntry


def conversation_out(conversation: Conversation) -> ConversationOut:
    return ConversationOut.model_validate(conversation)


def conversations_out(conversations: Sequence[Conversation]) -> list[ConversationOut]:
    return [conversation_out(c) for c in conversations]


def detail_out(
    conversation: Conversation, entries: Sequence[ConversationTimelineEntry]
) -> ConversationDetail:
    summary = conversation_out(conversation).model_dump()
    timeline = [
        TimelineEntryOut(
            **{"from": e.from_value, "to": e.to_value},
            id=e.id,
            kind=e.kind,
            actor=ActorOut(type=e.actor_type, id=e.actor_id),
            reason=e.reason,
            created_at=e.created_at,
        )
        for e in entries
    ]
    return ConversationDetail(**summary, timeline=timeline)
