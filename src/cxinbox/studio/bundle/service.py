"""Export a config as a bundle, check a whole bundle before writing anything, and write one into a
new draft (import, templates) or over a config in place (snapshot restore)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.bot import configs, prompt_versions
from cxinbox.bot.prompt_versions import VersionSource
from cxinbox.bot.repository import BotConfigRepository
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import ValidationFailed
from cxinbox.core.events import publish_event
from cxinbox.models.bot import BotConfig
from cxinbox.runtime import Runtime
from cxinbox.studio.bundle.registry import (
    FORMAT,
    VERSION,
    ExportContext,
    ImportContext,
    Section,
    Tier,
    sections,
)
from cxinbox.studio.errors import InvalidBundle


@dataclass
class CheckedBundle:
    """A bundle whose every section passed validation: (section, parsed value), in write order."""

    parts: list[tuple[Section, Any]]

    def value_of(self, name: str) -> Any:
        return next(value for section, value in self.parts if section.name == name)


async def export_bundle(
    session: AsyncSession,
    runtime: Runtime,
    config: BotConfig,
    tier: Tier,
    files: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    ctx = ExportContext(session, runtime, config, tier, files)
    return {
        "format": FORMAT,
        "version": VERSION,
        "tier": tier.value,
        "exportedAt": utcnow().isoformat(),
        "sections": {s.name: await s.export(ctx) for s in sections() if tier.carries(s.tier)},
    }


def check(document: Any, *, tier: Tier = Tier.FULL) -> CheckedBundle:
    """Every section of ``document`` validated, up to ``tier`` (sections above it are dropped): 400
    naming the first broken section, or a bundle of a newer version."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidBundle(f'Not a bot bundle (its "format" must be "{FORMAT}")')
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidBundle('The bundle\'s "version" must be a positive integer')
    if version > VERSION:
        raise InvalidBundle(
            f"The bundle is of version {version}; this server reads up to version {VERSION}",
            code="BUNDLE_VERSION_UNSUPPORTED",
        )
    body = document.get("sections")
    if not isinstance(body, dict):
        raise InvalidBundle('The bundle has no "sections" object')
    known = {s.name: s for s in sections()}
    if unknown := sorted(set(body) - set(known)):
        raise InvalidBundle(f"Unknown section {unknown[0]!r}", details=[{"field": f"sections.{unknown[0]}"}])
    if "config" not in body:
        raise InvalidBundle('The bundle has no "config" section', details=[{"field": "sections.config"}])
    parts = []
    for name, section in known.items():
        if name in body and tier.carries(section.tier):
            parts.append((section, _validated(section, body[name])))
    return CheckedBundle(parts)


async def import_as_draft(
    session: AsyncSession,
    runtime: Runtime,
    editor: Actor,
    bundle: CheckedBundle,
    files: dict[str, bytes] | None = None,
    *,
    activate: bool = False,
    notes: list[str] | None = None,
) -> BotConfig:
    """A new config made from the bundle: a draft, or the active config when ``activate``; what the
    sections skipped is added to ``notes``."""
    repo = BotConfigRepository(session, editor.principal.tenant)
    name = bundle.value_of("config").name
    draft = name if name.endswith(configs.DRAFT_SUFFIX) else (name + configs.DRAFT_SUFFIX)[:100]
    config = repo.add(configs.new_config(draft, editor))
    await repo.flush()
    context = ImportContext(session, runtime, editor, config, files or {})
    await _write(context, bundle, VersionSource.IMPORT)
    if notes is not None:
        notes.extend(context.notes)
    publish_event(
        session, config.organization_id, "bot_config.created", {"id": config.id, "name": config.name}
    )
    editor.record(
        session,
        "bot_config.imported",
        target_type="bot_config",
        target_id=config.id,
        details={"name": config.name},
    )
    if activate:
        config = await configs.activate(session, editor, config.id)
    return config


async def write_in_place(
    session: AsyncSession, runtime: Runtime, editor: Actor, config: BotConfig, bundle: CheckedBundle
) -> None:
    """The config's settings and intents replaced by the bundle's (its name, activation and keys kept)."""
    await _write(ImportContext(session, runtime, editor, config), bundle, VersionSource.RESTORE)
    publish_event(
        session, config.organization_id, "bot_config.updated", {"id": config.id, "name": config.name}
    )


async def _write(ctx: ImportContext, bundle: CheckedBundle, source: VersionSource) -> None:
    for section, value in bundle.parts:
        try:
            await section.write(ctx, value)
        except ValidationFailed as exc:
            raise InvalidBundle(
                f"Section {section.name!r} is invalid: {exc.message}",
                details=[{"field": f"sections.{section.name}"}],
            ) from exc
    await ctx.session.flush()
    await prompt_versions.record(ctx.session, ctx.config, ctx.editor.principal.user_id, source)


def _validated(section: Section, value: Any) -> Any:
    try:
        return section.validate(value)
    except (ValueError, ValidationError) as exc:
        raise InvalidBundle(
            f"Section {section.name!r} is invalid: {_reason(exc)}",
            details=[{"field": f"sections.{section.name}"}],
        ) from exc


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))
    return str(exc)
