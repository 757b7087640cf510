from __future__ import annotations

from sqlalchemy import or_, select

from cxinbox.core.repository import Repository, TenantRepository
from cxinbox.models.identity import Organization
from cxinbox.models.organization_settings import OrganizationSettings


class OrganizationSettingsRepository(TenantRepository[OrganizationSettings]):
    model = OrganizationSettings

    async def current(self) -> OrganizationSettings:
        """The organization's row, or an unsaved one with the defaults (reads never write)."""
        row = await self.session.scalar(self.select())
        return row or OrganizationSettings.with_defaults(self.tenant.organization_id)

    async def for_update(self) -> OrganizationSettings:
        """The organization's row, created on first change."""
        row = await self.current()
        if row not in self.session:
            self.add(row)
        return row


class PublicOrganizationRepository(Repository[Organization]):
    """Cross-tenant on purpose: public branding finds an organization by its public ``clientId``."""

    model = Organization

    async def by_client_id(self, client_id: str) -> Organization | None:
        return await self.session.scalar(
            select(Organization).where(or_(Organization.slug == client_id, Organization.id == client_id))
        )
