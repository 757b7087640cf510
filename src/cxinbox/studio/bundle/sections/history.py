"""``promptHistory`` (the config's prompt versions, numbers and times kept; authors are people of
the exporting organization, so they are not carried) and ``presets`` (the organization's presets
without their keys; a name the importing organization already has is skipped)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from sqlalchemy import select

from cxinbox.bot import configs
from cxinbox.bot.prompt_versions import PromptVersionRepository, VersionSource
from cxinbox.bot.schemas import Name, SystemPrompt
from cxinbox.core.tenancy import TenantContext
from cxinbox.core.wire import RequestModel
from cxinbox.models.bot_studio import BotPreset, BotPromptVersion
from cxinbox.studio.bundle.registry import ExportContext, ImportContext, Section, Tier
from cxinbox.studio.schemas import PresetFields

MAX_VERSIONS = 5_000
MAX_PRESETS = 200


class BundleVersion(RequestModel):
    number: Annotated[int, Field(ge=1, le=1_000_000)]
    system_prompt: SystemPrompt
    source: VersionSource
    created_at: datetime


class BundlePreset(PresetFields):
    name: Name


_VERSIONS = TypeAdapter(Annotated[list[BundleVersion], Field(max_length=MAX_VERSIONS)])
_PRESETS = TypeAdapter(Annotated[list[BundlePreset], Field(max_length=MAX_PRESETS)])


async def export_history(ctx: ExportContext) -> list[dict[str, Any]]:
    repo = PromptVersionRepository(ctx.session, TenantContext(ctx.config.organization_id))
    return [
        {
            "number": v.number,
            "systemPrompt": v.system_prompt,
            "source": v.source,
            "createdAt": v.created_at.isoformat(),
        }
        for v in reversed(await repo.of_config(ctx.config.id))
    ]


def validate_history(value: Any) -> list[BundleVersion]:
    versions = _VERSIONS.validate_python(value)
    if len({v.number for v in versions}) != len(versions):
        raise ValueError("version numbers must be unique")
    return versions


async def write_history(ctx: ImportContext, value: list[BundleVersion]) -> None:
    """The history of a new config (a config that has one keeps it)."""
    session, config = ctx.session, ctx.config
    if await session.scalar(select(BotPromptVersion.id).where(BotPromptVersion.bot_config_id == config.id)):
        return
    for version in value:
        session.add(
            BotPromptVersion(
                organization_id=config.organization_id,
                bot_config_id=config.id,
                number=version.number,
                system_prompt=version.system_prompt,
                source=version.source.value,
                created_at=version.created_at,
            )
        )
    await session.flush()


async def export_presets(ctx: ExportContext) -> list[dict[str, Any]]:
    stmt = (
        select(BotPreset)
        .where(BotPreset.organization_id == ctx.config.organization_id)
        .order_by(BotPreset.created_at, BotPreset.id)
    )
    return [
        {
            "name": p.name,
            "provider": p.provider,
            "model": p.model,
            "baseUrl": p.base_url,
            "temperature": p.temperature,
            "maxTokens": p.max_tokens,
        }
        for p in await ctx.session.scalars(stmt)
    ]


def validate_presets(value: Any) -> list[BundlePreset]:
    presets = _PRESETS.validate_python(value)
    for preset in presets:
        if preset.provider is None or preset.model is None:
            raise ValueError(f"preset {preset.name!r} needs a provider and a model")
    return presets


async def write_presets(ctx: ImportContext, value: list[BundlePreset]) -> None:
    org = ctx.config.organization_id
    taken = set(await ctx.session.scalars(select(BotPreset.name).where(BotPreset.organization_id == org)))
    for preset in value:
        if preset.name in taken:
            continue
        configs.ensure_allowed_base_url(ctx.runtime, preset.base_url)
        taken.add(preset.name)
        ctx.session.add(
            BotPreset(
                organization_id=org,
                name=preset.name,
                provider=str(preset.provider),
                model=str(preset.model),
                base_url=preset.base_url,
                temperature=preset.temperature,
                max_tokens=preset.max_tokens,
            )
        )
    await ctx.session.flush()


SECTIONS = (
    Section("promptHistory", Tier.STANDARD, export_history, validate_history, write_history),
    Section("presets", Tier.STANDARD, export_presets, validate_presets, write_presets),
)
