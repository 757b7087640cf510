from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, select, update

from cxinbox.core.errors import NotFound
from cxinbox.core.repository import TenantRepository
from cxinbox.models.tools import BotTool, Connection, Integration, IntegrationLookup

#: tools with their connection (None: none, or not of the same organization)
_WITH_CONNECTION = select(BotTool, Connection).outerjoin(
    Connection,
    (Connection.id == BotTool.connection_id) & (Connection.organization_id == BotTool.organization_id),
)
#: a tool of the organization and its connection, built once: building it and its cache key anew
#: cost about 0.1 ms of CPU per tool test
_TOOL_WITH_CONNECTION = _WITH_CONNECTION.where(
    BotTool.organization_id == bindparam("organization_id"), BotTool.id == bindparam("id")
)


class ConnectionRepository(TenantRepository[Connection]):
    model = Connection
    not_found_message = "Connection not found"

    async def listed(self) -> Sequence[Connection]:
        return await self.list(self.select().order_by(Connection.name, Connection.id))


class ToolRepository(TenantRepository[BotTool]):
    model = BotTool
    not_found_message = "Tool not found"

    async def listed(self) -> Sequence[BotTool]:
        return await self.list(self.select().order_by(BotTool.name))

    async def for_agents(self) -> Sequence[BotTool]:
        stmt = self.select().where(BotTool.is_active.is_(True), BotTool.available_to_agents.is_(True))
        return await self.list(stmt.order_by(BotTool.name))

    async def for_bot(self) -> list[tuple[BotTool, Connection | None]]:
        """The functions the bot's LLM is offered (``name``, ``description``, ``parameters``), each
        with its connection, in one read (``runner.plan_of``)."""
        stmt = self.scoped(_WITH_CONNECTION).where(
            BotTool.is_active.is_(True), BotTool.available_to_bot.is_(True)
        )
        rows = await self.session.execute(stmt.order_by(BotTool.name))
        return [(tool, connection) for tool, connection in rows]

    async def get_with_connection_or_404(self, id: str) -> tuple[BotTool, Connection | None]:
        """The tool and, in the same read, its connection (when it has one of the same organization)."""
        params = {"organization_id": self.tenant.organization_id, "id": id}
        row = (await self.session.execute(_TOOL_WITH_CONNECTION, params)).first()
        if row is None:
            raise NotFound(self.not_found_message)
        return row[0], row[1]

    async def by_name(self, name: str) -> BotTool | None:
        return await self.session.scalar(self.select().where(BotTool.name == name))

    async def unlink(self, connection_id: str) -> None:
        """Tools that used the connection keep their settings, without it."""
        await self.session.execute(
            update(BotTool)
            .where(
                BotTool.organization_id == self.tenant.organization_id, BotTool.connection_id == connection_id
            )
            .values(connection_id=None)
        )


class IntegrationRepository(TenantRepository[Integration]):
    model = Integration
    not_found_message = "No integration is configured"

    async def current(self) -> Integration | None:
        return await self.session.scalar(self.select())


class LookupRepository(TenantRepository[IntegrationLookup]):
    """The integration's cached answers, by number (its last 10 digits)."""

    model = IntegrationLookup

    async def by_phone(self, phone: str) -> IntegrationLookup | None:
        return await self.session.scalar(self.select().where(IntegrationLookup.phone == phone))

    async def forget_all(self) -> None:
        await self.session.execute(
            delete(IntegrationLookup).where(IntegrationLookup.organization_id == self.tenant.organization_id)
        )
