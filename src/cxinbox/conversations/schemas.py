"""Wire models of the conversations area; ``ConversationOut`` is also the payload of the
``conversation.*`` events, whichever channel the conversation is on."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pydantic import Field

from cxinbox.contacts.schemas import ContactOut
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples, examples_of
from cxinbox.models.inbox import ActorType, ConversationOrigin, ConversationStatus, TimelineKind
from cxinbox.tags.schemas import TagOut


class ConversationSort(enum.StrEnum):
    NEWEST = "newest"  # latest activity first
    OLDEST = "oldest"  # least recent activity first
    WAITING_LONGEST = "waiting_longest"  # the customer's last message, oldest first
    CREATED_NEWEST = "created_newest"
    CREATED_OLDEST = "created_oldest"


class SubFilter(enum.StrEnum):
    UNREAD = "unread"
    NEEDS_ACTION = "needs_action"


class Priority(enum.StrEnum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"


ME = "me"
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class ConversationFilter:
    """The filters ``/conversations`` and ``/conversations/counts`` share. ``assigned_to`` is a user
    id, or already resolved from ``me``; ``unassigned`` selects conversations without an agent."""

    status: ConversationStatus | None = None
    assigned_to: str | None = None
    unassigned: bool = False
    search: str | None = None
    team_id: str | None = None
    category: str | None = None
    tag_id: str | None = None
    origin: ConversationOrigin | None = None
    sub_filter: SubFilter | None = None


class ConversationCounts(ApiModel):
    all: int
    unread: int = Field(description="With unread customer messages")
    needs_action: int = Field(description="Whose last message is the customer's")


class UserRef(ApiModel):
    id: str
    name: str


class FollowUpOut(ApiModel):
    note: str | None
    due_at: UtcDatetime | None = Field(description="When to come back to the conversation")
    set_by_id: str | None
    set_at: UtcDatetime


class ConversationOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24de1-0b80-7c11-b2d4-7f6a9e3c5a02",
            "status": "OPEN",
            "origin": "INBOUND",
            "contact": examples_of(ContactOut)[0],
            "assignedTo": {"id": "01a24dda-3f64-7b6e-a01c-8d0461196f48", "name": "Ana Lima"},
            "assignedToId": "01a24dda-3f64-7b6e-a01c-8d0461196f48",
            "teamId": "01a24ddb-6a7c-7ac7-aaef-fb9d5951a553",
            "category": None,
            "priority": "NORMAL",
            "tags": [],
            "unreadCount": 1,
            "needsAction": True,
            "lastMessageAt": "2026-12-07T09:30:12Z",
            "lastMessagePreview": "Hi, where is my order?",
            "lastInboundAt": "2026-12-07T09:30:12Z",
            "followUp": None,
            "whatsappAccountId": "01a24de0-11c2-7d45-8b7e-5e0a7f3c9d21",
            "closedAt": None,
            "createdAt": "2026-12-07T09:30:12.420311Z",
            "updatedAt": "2026-12-07T09:30:12.420311Z",
        }
    )
    id: str
    status: ConversationStatus
    origin: ConversationOrigin
    contact: ContactOut
    assigned_to: UserRef | None
    assigned_to_id: str | None
    team_id: str | None
    category: str | None
    priority: str
    tags: list[TagOut]
    unread_count: int
    needs_action: bool = Field(description="The last message is the customer's: an answer is due")
    last_message_at: UtcDatetime | None
    last_message_preview: str | None
    last_inbound_at: UtcDatetime | None
    follow_up: FollowUpOut | None
    whatsapp_account_id: str
    closed_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ActorOut(ApiModel):
    type: ActorType
    id: str | None = Field(description="The user or API key; empty for the customer and the system")


class TimelineEntryOut(ApiModel):
    id: str
    kind: TimelineKind = Field(
        description="What moved: STATUS, ASSIGNEE (a user id) or TEAM (a team id); TOOL is a tool an "
        "agent ran (`to` is its name, reason `tool_call` or `tool_failed`)"
    )
    from_value: str | None = Field(alias="from")
    to_value: str | None = Field(alias="to")
    actor: ActorOut
    reason: str = Field(
        description="e.g. takeover, assign, unassign, resolve, update, customer_message, tool_call"
    )
    created_at: UtcDatetime


class ConversationDetail(ConversationOut):
    timeline: list[TimelineEntryOut] = Field(description="Its latest moves (up to 200), oldest first")


class UpdateConversation(RequestModel):
    """Only the fields sent change; ``null`` clears ``assignedToId``, ``teamId`` and ``category``."""

    status: ConversationStatus | None = None
    assigned_to_id: str | None = Field(default=None, max_length=36)
    team_id: str | None = Field(default=None, max_length=36)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    priority: Priority | None = None


class AssignConversation(RequestModel):
    user_id: str = Field(min_length=1, max_length=36)


class FollowUp(RequestModel):
    note: str | None = Field(default=None, max_length=2000)
    due_at: UtcDatetime | None = Field(default=None, description="When to come back to it")


class ReturnToBot(RequestModel):
    handoff_summary: str | None = Field(
        default=None, max_length=4000, description="Agent-edited handoff context for the bot"
    )
