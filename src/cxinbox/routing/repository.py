from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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


#: ``session.info`` key of the settings ``current`` read while ``settings_read_once`` holds
_READ_ONCE = "routing_settings_read_once"


@contextmanager
def settings_read_once(session: AsyncSession) -> Iterator[None]:
    """Within the block, ``current`` reads each organization's settings once in ``session``, for a
    caller that changes none of them: an inbound batch, whose bot entry, routing and off-hours
    replies each ask, for every conversation."""
    if _READ_ONCE in session.info:
        yield
        return
    session.info[_READ_ONCE] = {}
    try:
        yield
    finally:
        session.info.pop(_READ_ONCE, None)


class RoutingSettingsRepository(TenantRepository[RoutingSettings]):
    model = RoutingSettings

    async def current(self) -> RoutingSettings:
        """The organization's settings (the defaults, unsaved, until its first change)."""
        kept: dict[str, RoutingSettings] | None = self.session.info.get(_READ_ONCE)
        organization_id = self.tenant.organization_id
        if kept is not None and organization_id in kept:
            return kept[organization_id]
        row = await self.session.scalar(self.select())
        settings = row or RoutingSettings.with_defaults(organization_id)
        if kept is not None:
            kept[organization_id] = settings
        return settings

    async def for_update(self) -> RoutingSettings:
        """The organization's row, created on its first change (two first changes at once: one
        insert, both update it)."""
        await insert_new(self.session, RoutingSettings, organization_id=self.tenant.organization_id)
        return (await self.session.scalars(self.select().with_for_update())).one()
