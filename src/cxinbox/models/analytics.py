"""Analytics: the organization's AI-query switch, and the indexes its figures are read through.

The conversation and message figures are read from the rollups of ``analytics_rollups.py``; the
pieces of a range shorter than a 15-minute slot, and campaigns, from the inbox's own rows. The
indexes below let those reads take only their range: ``conversations`` by creation and by closing
time over every status (the inbox's own indexes leave CLOSED conversations out), the timeline by
time, an organization's messages by time with what the series count (no table lookups), and a
conversation's messages by sender (its first customer message, first reply, an agent's first
message: one seek each, which the rollups' triggers make).
"""

from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import OneRowPerOrganization, TenantModel
from cxinbox.models.inbox import Conversation, ConversationTimelineEntry, Message


class AnalyticsSettings(OneRowPerOrganization, TenantModel):
    """One row per organization, created when an admin first toggles AI queries (off until then)."""

    __tablename__ = "analytics_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)
    organization_id_indexed = False  # the unique constraint leads with it

    ai_query_enabled: Mapped[bool] = mapped_column(default=False)


CONVERSATIONS_BY_CREATION = Index(
    "ix_conversations_org_created_all", Conversation.organization_id, Conversation.created_at
)
CONVERSATIONS_BY_CLOSING = Index(
    "ix_conversations_org_closed", Conversation.organization_id, Conversation.closed_at
)
TIMELINE_BY_TIME = Index(
    "ix_conversation_timeline_org_created",
    ConversationTimelineEntry.organization_id,
    ConversationTimelineEntry.created_at,
)
MESSAGES_BY_TIME = Index(
    "ix_messages_org_ordered_kind",
    Message.organization_id,
    Message.ordered_at,
    Message.direction,
    Message.sender_type,
    Message.sender_user_id,
)
MESSAGES_BY_SENDER = Index(
    "ix_messages_conversation_sender",
    Message.conversation_id,
    Message.sender_type,
    Message.sender_user_id,
    Message.ordered_at,
)
