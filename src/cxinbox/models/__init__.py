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
from cxinbox.models.teams import Team, TeamMember, TeamRole, TeamSchedule

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "EventRecord",
    "EventSequence",
    "LoginCode",
    "Organization",
    "OrganizationStatus",
    "Plan",
    "Presence",
    "RefreshToken",
    "Role",
    "Team",
    "TeamMember",
    "TeamRole",
    "TeamSchedule",
    "TenantModel",
    "User",
]
