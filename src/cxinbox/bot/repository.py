from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from cxinbox.core.repository import TenantRepository
from cxinbox.models.bot import BotConfig, BotIntent, BotSandboxSession


class BotConfigRepository(TenantRepository[BotConfig]):
    model = BotConfig
    not_found_message = "Bot config not found"

    async def active(self) -> BotConfig | None:
        return await self.session.scalar(self.select().where(BotConfig.is_active.is_(True)))

    async def listed(self) -> Sequence[BotConfig]:
        return await self.list(self.select().order_by(BotConfig.is_active.desc(), BotConfig.created_at))


class BotIntentRepository(TenantRepository[BotIntent]):
    model = BotIntent
    not_found_message = "Intent not found"

    async def of_config(self, config_id: str) -> Sequence[BotIntent]:
        stmt = self.select().where(BotIntent.bot_config_id == config_id)
        return await self.list(stmt.order_by(BotIntent.order, BotIntent.created_at))

    async def next_order(self, config_id: str) -> int:
        stmt = self.scoped(select(func.max(BotIntent.order)).where(BotIntent.bot_config_id == config_id))
        highest = await self.session.scalar(stmt)
        return 0 if highest is None else highest + 1


class SandboxSessionRepository(TenantRepository[BotSandboxSession]):
    model = BotSandboxSession
    not_found_message = "Sandbox session not found"
