"""What decides, for one organization, whether and how the bot answers: its active config and the
organization's toggles (``bot-enabled``, ``auto-categorize``, the bot-mode flags)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.models.bot import BotConfig
from cxinbox.models.organization_settings import OrganizationSettings


@dataclass(frozen=True)
class BotSetup:
    config: BotConfig | None
    settings: OrganizationSettings

    @property
    def enabled(self) -> bool:
        return self.config is not None and self.settings.bot_enabled


async def setup_of(session: AsyncSession, organization_id: str) -> BotSetup:
    config = await session.scalar(
        select(BotConfig).where(BotConfig.organization_id == organization_id, BotConfig.is_active.is_(True))
    )
    settings = await session.scalar(
        select(OrganizationSettings).where(OrganizationSettings.organization_id == organization_id)
    )
    return BotSetup(config, settings or OrganizationSettings.with_defaults(organization_id))
