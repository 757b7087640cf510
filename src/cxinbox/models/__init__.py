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
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    MediaState,
    Message,
    MessageStatus,
    MessageStatusEvent,
    MessageType,
    SenderType,
)
from cxinbox.models.invitations import Invitation, InvitationStatus
from cxinbox.models.outbound import IdempotencyKey, OutboxEntry, OutboxState
from cxinbox.models.teams import Team, TeamMember, TeamRole
from cxinbox.models.whatsapp import (
    AccountStatus,
    MetaAppConfig,
    TemplateEvent,
    WebhookEvent,
    WhatsAppAccount,
)

__all__ = [
    "AccountStatus",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Contact",
    "Conversation",
    "ConversationStatus",
    "Direction",
    "EventRecord",
    "EventSequence",
    "IdempotencyKey",
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
    "OutboxEntry",
    "OutboxState",
    "OrganizationStatus",
    "Plan",
    "Presence",
    "RefreshToken",
    "Role",
    "SenderType",
    "Team",
    "TeamMember",
    "TeamRole",
    "TemplateEvent",
    "TenantModel",
    "User",
    "WebhookEvent",
    "WhatsAppAccount",
]
