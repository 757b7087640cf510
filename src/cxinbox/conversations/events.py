"""What the conversations area publishes: ``conversation.*`` events carry ``ConversationOut`` and
the audience the realtime stream filters on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations.schemas import ConversationOut
from cxinbox.core.events import publish_event
from cxinbox.models.inbox import Conversation


def audience(conversation: Conversation) -> dict[str, Any]:
    """What the realtime stream filters on: who may see events of this conversation."""
    return audience_of(conversation.id, conversation.assigned_to_id, conversation.team_id)


def audience_of(conversation_id: str, assigned_to_id: str | None, team_id: str | None) -> dict[str, Any]:
    """``audience`` from the conversation's fields (read along with something else)."""
    return {"conversationId": conversation_id, "assignedToId": assigned_to_id, "teamId": team_id}


def publish_conversation(
    session: AsyncSession,
    conversation: Conversation,
    type: str,
    *,
    previous_audience: dict[str, Any] | None = None,
) -> None:
    """``previous_audience`` (``previousAssignedToId``, ``previousTeamId``) lets those who could see
    the conversation before this change learn that it left their view."""
    data = ConversationOut.model_validate(conversation).model_dump(mode="json", by_alias=True)
    event_audience = audience(conversation) | (previous_audience or {})
    publish_event(session, conversation.organization_id, type, data, event_audience)
