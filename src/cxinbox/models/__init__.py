"""SQLAlchemy models, one module per aggregate. Importing this package registers every table."""

from cxinbox.models.audit import AuditEntry
from cxinbox.models.base import Base, TenantModel
from cxinbox.models.events import EventRecord, EventSequence
from cxinbox.models.identity import (
    ApiKey,
    LoginCode,
    Organization,
    OrganizationStatus,
    Plan,
    Presence,
    RefreshToken,
    Role,
    User,
)
from cxinbox.models.inbox import (
    ActorType,
    Contact,
    Conversation,
    ConversationCount,
    ConversationCountChange,
    ConversationOrigin,
    ConversationStatus,
    ConversationTimelineEntry,
    Direction,
    MediaState,
    Message,
    MessageStatus,
    MessageStatusEvent,
    MessageType,
    SenderType,
    TimelineKind,
)
from cxinbox.models.invitations import Invitation, InvitationStatus
from cxinbox.models.quick_replies import QuickReply
from cxinbox.models.tags import ConversationTag, Tag
from cxinbox.models.teams import Team, TeamMember, TeamRole
from cxinbox.models.whatsapp import AccountStatus, MetaAppConfig, WebhookEvent, WhatsAppAccount

__all__ = [
    "AccountStatus",
    "ActorType",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Contact",
    "Conversation",
    "ConversationCount",
    "ConversationCountChange",
    "ConversationOrigin",
    "ConversationStatus",
    "ConversationTag",
    "ConversationTimelineEntry",
    "Direction",
    "EventRecord",
    "EventSequence",
    "Invitation",
    "InvitationStatus",
    "LoginCode",
    "MediaState",
    "Message",
    "MessageStatus",
    "MessageStatusEvent",
    "MessageType",
    "MetaAppConfig",
    "Organization",
    "OrganizationStatus",
    "Plan",
    "Presence",
    "QuickReply",
    "RefreshToken",
    "Role",
    "SenderType",
    "Tag",
    "Team",
    "TeamMember",
    "TeamRole",
    "TenantModel",
    "TimelineKind",
    "User",
    "WebhookEvent",
    "WhatsAppAccount",
]
