from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.models.audit import AuditEntry


def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    *,
    target_type: str,
    target_id: str | None,
    organization_id: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Write one audit entry in the current unit of work (it is kept only if the action commits).

    ``action`` is dotted, e.g. ``organization.updated``, ``user.role_changed``, ``admin.enter_org``.
    """
    entry = AuditEntry(
        organization_id=organization_id if organization_id is not None else principal.organization_id,
        actor_user_id=principal.user_id,
        actor_api_key_id=principal.api_key_id,
        actor_role=principal.role.value,
        impersonator_id=principal.impersonator_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
        ip=ip,
    )
    session.add(entry)
    return entry


#: ``actor_role`` of what the platform did by itself (a periodic job), with no one acting
SYSTEM_ACTOR = "SYSTEM"


def record_system(
    session: AsyncSession,
    organization_id: str,
    action: str,
    *,
    target_type: str,
    target_id: str | None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """An entry for what a periodic job did by itself (no user, no key)."""
    entry = AuditEntry(
        organization_id=organization_id,
        actor_role=SYSTEM_ACTOR,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
    )
    session.add(entry)
    return entry
