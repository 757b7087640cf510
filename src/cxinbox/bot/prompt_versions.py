"""The numbered history of a config's ``systemPrompt``: every write that changes the text (an edit,
an import, a snapshot restore, a rollback) adds a version, numbered from 1 per config, with its
author and time. The highest number is the current text.

Config writes call ``record`` after their flush; the studio's import, restore and rollback call it
with their own ``source``."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.repository import TenantRepository
from cxinbox.models.bot import BotConfig
from cxinbox.models.bot_studio import BotPromptVersion


class VersionSource(StrEnum):
    EDIT = "EDIT"
    IMPORT = "IMPORT"
    RESTORE = "RESTORE"
    ROLLBACK = "ROLLBACK"


class PromptVersionRepository(TenantRepository[BotPromptVersion]):
    model = BotPromptVersion
    not_found_message = "Prompt version not found"

    async def of_config(self, config_id: str) -> Sequence[BotPromptVersion]:
        stmt = self.select().where(BotPromptVersion.bot_config_id == config_id)
        return await self.list(stmt.order_by(BotPromptVersion.number.desc()))


async def record(
    session: AsyncSession,
    config: BotConfig,
    author_id: str | None,
    source: VersionSource = VersionSource.EDIT,
) -> BotPromptVersion | None:
    """A new version holding the config's prompt, unless the text is the current version's (or, with
    no history yet, empty). A rollback is always recorded: choosing a version is itself a change."""
    latest = await session.scalar(
        select(BotPromptVersion)
        .where(BotPromptVersion.bot_config_id == config.id)
        .order_by(BotPromptVersion.number.desc())
        .limit(1)
    )
    current = latest.system_prompt if latest else ""
    if source != VersionSource.ROLLBACK and config.system_prompt == current:
        return None
    version = BotPromptVersion(
        organization_id=config.organization_id,
        bot_config_id=config.id,
        number=(latest.number if latest else 0) + 1,
        system_prompt=config.system_prompt,
        source=source.value,
        author_id=author_id,
    )
    session.add(version)
    await session.flush()
    return version
