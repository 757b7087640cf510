"""SQLAlchemy models, one module per aggregate. Importing this package registers every table."""

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

__all__ = [
    "ApiKey",
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
    "TenantModel",
    "User",
]
