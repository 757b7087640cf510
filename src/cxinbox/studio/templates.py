"""Bot templates: bundles at the ``config`` tier the platform offers every organization. A super
admin writes them (by hand, or from an organization's active config); any organization's admin
lists the published ones and imports one as a new draft."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.bot.repository import BotConfigRepository
from cxinbox.core.errors import NotFound
from cxinbox.core.repository import Repository
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.bot import BotConfig
from cxinbox.models.bot_studio import BotTemplate
from cxinbox.models.identity import Organization
from cxinbox.runtime import Runtime
from cxinbox.studio.bundle.registry import FORMAT, VERSION, Tier
from cxinbox.studio.bundle.service import check, export_bundle, import_as_draft
from cxinbox.studio.errors import TemplateSlugTaken
from cxinbox.studio.schemas import BotTemplateFromConfig, CreateBotTemplate, UpdateBotTemplate


class TemplateRepository(Repository[BotTemplate]):
    model = BotTemplate
    not_found_message = "Bot template not found"

    async def listed(self, *, published_only: bool) -> Sequence[BotTemplate]:
        stmt = self.select().order_by(BotTemplate.name, BotTemplate.id)
        if published_only:
            stmt = stmt.where(BotTemplate.is_published.is_(True))
        return await self.list(stmt)

    async def ensure_slug_free(self, slug: str, template_id: str | None = None) -> None:
        holder = await self.session.scalar(select(BotTemplate.id).where(BotTemplate.slug == slug))
        if holder is not None and holder != template_id:
            raise TemplateSlugTaken()


async def create(session: AsyncSession, editor: Actor, body: CreateBotTemplate) -> BotTemplate:
    repo = TemplateRepository(session)
    await repo.ensure_slug_free(body.slug)
    template = repo.add(
        BotTemplate(
            name=body.name,
            slug=body.slug,
            description=body.description,
            is_published=bool(body.is_published),
            bundle=_config_tier(body.bundle),
        )
    )
    await repo.flush()
    _audit(session, editor, "bot_template.created", template)
    return template


async def from_config(
    session: AsyncSession, runtime: Runtime, editor: Actor, body: BotTemplateFromConfig
) -> BotTemplate:
    """A template of the organization's active config, at the ``config`` tier."""
    if await session.get(Organization, body.org_id) is None:
        raise NotFound("Organization not found")
    config = await BotConfigRepository(session, TenantContext.system(body.org_id)).active()
    if config is None:
        raise NotFound("The organization has no active bot config")
    bundle = await export_bundle(session, runtime, config, Tier.CONFIG)
    return await create(
        session,
        editor,
        CreateBotTemplate(
            name=body.name,
            slug=body.slug,
            description=body.description,
            is_published=body.is_published,
            bundle=bundle,
        ),
    )


async def update(
    session: AsyncSession, editor: Actor, template_id: str, body: UpdateBotTemplate
) -> BotTemplate:
    repo = TemplateRepository(session)
    template = await repo.get_or_404(template_id)
    sent = body.model_fields_set
    if body.slug is not None:
        await repo.ensure_slug_free(body.slug, template.id)
        template.slug = body.slug
    if body.name is not None:
        template.name = body.name
    if "description" in sent:
        template.description = body.description
    if body.is_published is not None:
        template.is_published = body.is_published
    if body.bundle is not None:
        template.bundle = _config_tier(body.bundle)
    await repo.flush()
    _audit(session, editor, "bot_template.updated", template)
    return template


async def delete(session: AsyncSession, editor: Actor, template_id: str) -> None:
    repo = TemplateRepository(session)
    template = await repo.get_or_404(template_id)
    await repo.delete(template)
    await repo.flush()
    _audit(session, editor, "bot_template.deleted", template)


async def import_template(
    session: AsyncSession, runtime: Runtime, editor: Actor, template_id: str
) -> BotConfig:
    """A new draft config of the caller's organization from a published template (404 otherwise)."""
    template = await TemplateRepository(session).get_or_404(template_id)
    if not template.is_published:
        raise NotFound(TemplateRepository.not_found_message)
    return await import_as_draft(session, runtime, editor, check(template.bundle, tier=Tier.CONFIG))


def _config_tier(document: dict[str, Any]) -> dict[str, Any]:
    """The bundle checked, and only its ``config`` tier sections kept."""
    checked = check(document, tier=Tier.CONFIG)
    names = {section.name for section, _ in checked.parts}
    sections = {name: value for name, value in document["sections"].items() if name in names}
    return {"format": FORMAT, "version": VERSION, "tier": Tier.CONFIG.value, "sections": sections}


def _audit(session: AsyncSession, editor: Actor, action: str, template: BotTemplate) -> None:
    editor.record(
        session, action, target_type="bot_template", target_id=template.id, details={"slug": template.slug}
    )
