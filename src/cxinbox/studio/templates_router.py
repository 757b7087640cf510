"""Bot templates: ``/admin/bot-templates`` (SUPER_ADMIN only) writes them; ``/bot-templates`` lists
the published ones to an organization's admins and supervisors and imports one (ADMIN)."""

from __future__ import annotations

from fastapi import APIRouter, status

from cxinbox.admin.router import ActorDep
from cxinbox.auth.dependencies import ReadSessionDep, RuntimeDep, SessionDep, SuperAdminDep, SupervisorDep
from cxinbox.auth.scopes import NO_API_KEYS, Area, key_scope
from cxinbox.bot import configs
from cxinbox.bot.router import EditorDep
from cxinbox.bot.schemas import BotConfigOut
from cxinbox.core.errors import AppError
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.studio import templates
from cxinbox.studio.errors import InvalidBundle, TemplateSlugTaken
from cxinbox.studio.schemas import BotTemplateFromConfig, BotTemplateOut, CreateBotTemplate, UpdateBotTemplate

admin_router = APIRouter(prefix="/admin/bot-templates", tags=["bot-studio"], dependencies=[NO_API_KEYS])
router = APIRouter(prefix="/bot-templates", tags=["bot-studio"], dependencies=[key_scope(Area.SETTINGS)])

_SUPER = "Super admins only (403 otherwise)."
_WRITES = AppError.responses(InvalidBundle, TemplateSlugTaken)


@admin_router.get("", summary="List all bot templates (including unpublished)", description=_SUPER)
async def list_all(_: SuperAdminDep, session: ReadSessionDep) -> Envelope[list[BotTemplateOut]]:
    rows = await templates.TemplateRepository(session).listed(published_only=False)
    return Envelope(data=[BotTemplateOut.model_validate(t) for t in rows])


@admin_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a bot template",
    description="`{name, slug, description?, isPublished?, bundle}`: the bundle is checked and its "
    f"`config` tier kept. A slug already used answers 409 SLUG_TAKEN. {_SUPER}",
    responses=_WRITES,
)
async def create(body: CreateBotTemplate, editor: ActorDep, session: SessionDep) -> Envelope[BotTemplateOut]:
    return Envelope(data=BotTemplateOut.model_validate(await templates.create(session, editor, body)))


@admin_router.post(
    "/from-config",
    status_code=status.HTTP_201_CREATED,
    summary="Publish current org config as a template",
    description="`{orgId, name, slug, description?, isPublished?}`: the organization's active config "
    f"at the `config` tier (404 if it has none). {_SUPER}",
    responses=_WRITES,
)
async def from_config(
    body: BotTemplateFromConfig, editor: ActorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BotTemplateOut]:
    return Envelope(
        data=BotTemplateOut.model_validate(await templates.from_config(session, runtime, editor, body))
    )


@admin_router.put(
    "/{id}",
    summary="Update a bot template",
    description=f"Only the fields sent change. {_SUPER}",
    responses=_WRITES,
)
async def update(
    id: str, body: UpdateBotTemplate, editor: ActorDep, session: SessionDep
) -> Envelope[BotTemplateOut]:
    return Envelope(data=BotTemplateOut.model_validate(await templates.update(session, editor, id, body)))


@admin_router.delete("/{id}", summary="Delete a bot template", description=_SUPER)
async def delete(id: str, editor: ActorDep, session: SessionDep) -> Envelope[Deleted]:
    await templates.delete(session, editor, id)
    return Envelope(data=Deleted(id=id))


@router.get("", summary="List published bot templates", description="Admins and supervisors.")
async def list_published(_: SupervisorDep, session: ReadSessionDep) -> Envelope[list[BotTemplateOut]]:
    rows = await templates.TemplateRepository(session).listed(published_only=True)
    return Envelope(data=[BotTemplateOut.model_validate(t) for t in rows])


@router.post(
    "/import/{id}",
    status_code=status.HTTP_201_CREATED,
    summary="Import a bot template into the org's config",
    description="A new draft config made from the published template (an unpublished one is not "
    "found). Set its key, then activate it. Admins only.",
)
async def import_template(
    id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BotConfigOut]:
    config = await templates.import_template(session, runtime, editor, id)
    return Envelope(data=configs.present(runtime, config))
