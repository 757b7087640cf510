"""Who acts and from where: what an endpoint hands its service so that changes reach the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.service import record
from cxinbox.auth.dependencies import ApiKeyDep, BearerDep, require_roles
from cxinbox.auth.principal import Principal
from cxinbox.core.http import client_ip
from cxinbox.models.audit import AuditEntry
from cxinbox.models.identity import Role


@dataclass(frozen=True)
class Actor:
    principal: Principal
    ip: str | None

    def record(
        self,
        session: AsyncSession,
        action: str,
        *,
        target_type: str,
        target_id: str | None,
        organization_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        return record(
            session,
            self.principal,
            action,
            target_type=target_type,
            target_id=target_id,
            organization_id=organization_id,
            details=details,
            ip=self.ip,
        )


def acting_as(*roles: Role) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the caller, who must have one of ``roles`` (403 otherwise), and their address."""
    allowed = require_roles(*roles)

    async def actor(request: Request, bearer: BearerDep, api_key: ApiKeyDep) -> Actor:
        # one dependency to solve per request, not four (principal, credentials, role, address)
        return Actor(await allowed(request, bearer, api_key), client_ip(request))

    return actor
