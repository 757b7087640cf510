"""Who is calling: the authenticated principal of a request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cxinbox.core.errors import Forbidden
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.identity import Role


@dataclass(frozen=True)
class Principal:
    role: Role
    organization_id: str | None
    user_id: str | None = None
    api_key_id: str | None = None
    #: the super admin acting inside ``organization_id`` with enter-org tokens
    impersonator_id: str | None = None
    #: when the access token was issued for a one-time code just verified (None otherwise)
    signed_in_by_code_at: datetime | None = None
    #: an API key's scopes (``auth/scopes.py``); None for a person, or a key made without scopes
    scopes: frozenset[str] | None = None

    @property
    def is_super_admin(self) -> bool:
        return self.role == Role.SUPER_ADMIN

    @property
    def tenant(self) -> TenantContext:
        """The organization this principal acts in; a super admin outside any organization has none."""
        if self.organization_id is None:
            raise Forbidden("This action needs an organization context")
        return TenantContext(self.organization_id)

    def require_user(self) -> str:
        if self.user_id is None:
            raise Forbidden("This action needs a signed-in user, not an API key")
        return self.user_id

    def has_role(self, *roles: Role) -> bool:
        # a super admin inside an entered organization counts as that organization's ADMIN
        if self.is_super_admin and self.organization_id is not None and Role.ADMIN in roles:
            return True
        return self.role in roles
