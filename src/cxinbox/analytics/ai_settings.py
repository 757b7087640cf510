"""Whether the organization's AI queries are on (an admin's switch, off by default) and possible
(an active bot config in LLM mode to ask)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.analytics.schemas import AiStatus
from cxinbox.auth.principal import Principal
from cxinbox.bot import configs
from cxinbox.core.errors import Conflict
from cxinbox.models.analytics import AnalyticsSettings
from cxinbox.models.bot import BotConfig, BotMode


class AiAnalyticsDisabled(Conflict):
    code = "AI_ANALYTICS_DISABLED"
    message = "AI analytics are off for this organization, or it has no LLM to ask"


async def _settings(session: AsyncSession, organization_id: str) -> AnalyticsSettings | None:
    return await session.scalar(
        select(AnalyticsSettings).where(AnalyticsSettings.organization_id == organization_id)
    )


async def _llm_config(session: AsyncSession, principal: Principal) -> BotConfig | None:
    config = await configs.active_config(session, principal)
    return config if config is not None and config.mode == BotMode.LLM else None


async def status(session: AsyncSession, principal: Principal) -> AiStatus:
    row = await _settings(session, principal.tenant.organization_id)
    enabled = bool(row and row.ai_query_enabled)
    available = await _llm_config(session, principal) is not None
    reason = "DISABLED" if not enabled else None if available else "NO_LLM"
    return AiStatus(available=available, enabled=enabled, reason=reason)


async def toggle(session: AsyncSession, principal: Principal, enabled: bool | None) -> AiStatus:
    """Set the switch to ``enabled``, or flip it when None."""
    organization_id = principal.tenant.organization_id
    row = await _settings(session, organization_id)
    if row is None:
        row = AnalyticsSettings.with_defaults(organization_id)
        session.add(row)
    row.ai_query_enabled = (not row.ai_query_enabled) if enabled is None else enabled
    await session.flush()
    return await status(session, principal)


async def usable_config(session: AsyncSession, principal: Principal) -> BotConfig:
    """The config to ask, or 409 ``AI_ANALYTICS_DISABLED`` when queries are off or impossible."""
    row = await _settings(session, principal.tenant.organization_id)
    config = await _llm_config(session, principal)
    if not (row and row.ai_query_enabled) or config is None:
        raise AiAnalyticsDisabled()
    return config
