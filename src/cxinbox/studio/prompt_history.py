"""Reading a config's prompt versions, and rolling back to one (itself a new version)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.bot import configs, prompt_versions
from cxinbox.bot.prompt_versions import PromptVersionRepository, VersionSource
from cxinbox.bot.repository import BotConfigRepository
from cxinbox.core.events import publish_event
from cxinbox.models.bot import BotConfig
from cxinbox.models.bot_studio import BotPromptVersion
from cxinbox.studio.schemas import PromptVersionOut


async def history(
    session: AsyncSession, principal: Principal, config_id: str | None
) -> list[PromptVersionOut]:
    config = await configs.config_or_active(session, principal, config_id)
    versions = await PromptVersionRepository(session, principal.tenant).of_config(config.id)
    return [present(v, current=i == 0) for i, v in enumerate(versions)]


async def rollback(session: AsyncSession, editor: Actor, version_id: str) -> PromptVersionOut:
    """The version's text copied back into its config, recorded as a new (current) version."""
    tenant = editor.principal.tenant
    chosen = await PromptVersionRepository(session, tenant).get_or_404(version_id)
    config: BotConfig = await BotConfigRepository(session, tenant).get_or_404(chosen.bot_config_id)
    config.system_prompt = chosen.system_prompt
    version = await prompt_versions.record(session, config, editor.principal.user_id, VersionSource.ROLLBACK)
    assert version is not None  # a rollback is always recorded
    publish_event(
        session, config.organization_id, "bot_config.updated", {"id": config.id, "name": config.name}
    )
    editor.record(
        session,
        "bot_config.prompt_rolled_back",
        target_type="bot_config",
        target_id=config.id,
        details={"toVersion": chosen.number, "newVersion": version.number},
    )
    return present(version, current=True)


def present(version: BotPromptVersion, *, current: bool) -> PromptVersionOut:
    return PromptVersionOut(
        id=version.id,
        bot_config_id=version.bot_config_id,
        number=version.number,
        system_prompt=version.system_prompt,
        source=VersionSource(version.source),
        author_id=version.author_id,
        is_current=current,
        created_at=version.created_at,
    )
