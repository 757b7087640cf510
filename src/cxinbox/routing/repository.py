from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from cxinbox.core.db import insert_new
from cxinbox.core.repository import TenantRepository
from cxinbox.models.routing import RoutingRule, RoutingSettings
from cxinbox.models.teams import Team


class RoutingRuleRepository(TenantRepository[RoutingRule]):
    model = RoutingRule
    not_found_message = "Routing rule not found"

    async def by_priority(self) -> Sequence[RoutingRule]:
        return await self.list(self.select().order_by(RoutingRule.priority, RoutingRule.id))

    async def firing(self) -> Sequence[RoutingRule]:
        """The rules that can fire, first to run first: active, of an active team."""
        stmt = (
            self.select()
            .join(Team, Team.id == RoutingRule.team_id)
            .where(RoutingRule.is_active.is_(True), Team.is_active.is_(True))
            .order_by(RoutingRule.priority, RoutingRule.id)
        )
        return await self.list(stmt)

    async def next_priority(self) -> int:
        stmt = self.scoped(select(func.max(RoutingRule.priority)))
        highest = await self.session.scalar(stmt)
        return 0 if highest is None else highest + 1


class RoutingSettingsRepository(TenantRepository[RoutingSettings]):
    model = RoutingSettings

    async def current(self) -> RoutingSettings:
        """The organization's settings (the defaults, unsaved, until its first change)."""
        row = await self.session.scalar(self.select())
        return row or RoutingSettings.with_defaults(self.tenant.organization_id)

    async def for_update(self) -> RoutingSettings:
        """The organization's row, created on its first change (two first changes at once: one
        insert, both update it)."""
        await insert_new(self.session, RoutingSettings, organization_id=self.tenant.organization_id)
        return (await self.session.scalars(self.select().with_for_update())).one()
