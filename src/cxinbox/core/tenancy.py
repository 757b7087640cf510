"""The tenant a unit of work acts for.

Only the auth layer creates a ``TenantContext`` for a request (after checking the credential), and
cross-tenant code (webhook routing, super admin, workers) creates one with ``TenantContext.system()``
so that it is easy to find.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TenantContext:
    organization_id: str

    @classmethod
    def system(cls, organization_id: str) -> TenantContext:
        """For code that resolved the tenant itself (a webhook's number, a job's row, a super admin)."""
        return cls(organization_id)
