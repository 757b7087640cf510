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
from cxinbox.models.invitations import Invitation, InvitationStatus
from cxinbox.models.organization_settings import OrganizationSettings
from cxinbox.models.teams import Team, TeamMember, TeamRole

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "EventRecord",
    "EventSequence",
    "Invitation",
    "InvitationStatus",
    "LoginCode",
    "Organization",
    "OrganizationSettings",
    "OrganizationStatus",
    "Plan",
    "Presence",
    "RefreshToken",
    "Role",
    "Team",
    "TeamMember",
    "TeamRole",
    "TenantModel",
    "User",
]
