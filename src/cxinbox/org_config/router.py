"""``/config``: branding (public by ``clientId`` = the organization's slug or id), the logo, the
feature toggles and bot mode of the caller's organization, and public platform facts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile

from cxinbox.admin.schemas import SystemConfig
from cxinbox.admin.system_config import effective_config
from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import MemberDep, RuntimeDep, SessionDep, SuperAdminDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.wire import Envelope
from cxinbox.models.identity import Role
from cxinbox.org_config import service
from cxinbox.org_config.logo import MAX_LOGO_BYTES
from cxinbox.org_config.schemas import (
    BotMode,
    Branding,
    PublicPlatformStats,
    Toggle,
    UpdateBotMode,
    UpdateBranding,
)

router = APIRouter(prefix="/config", tags=["config"], dependencies=[key_scope(Area.SETTINGS)])


EditorDep = Annotated[Actor, Depends(acting_as(Role.ADMIN))]


@router.get(
    "/branding",
    summary="Get public branding info (logo, company name, WhatsApp phone)",
    description="No token needed. `clientId` is the organization's slug (its id works too); "
    "without it the platform's own branding is answered. An unknown `clientId` answers 404.",
)
async def public_branding(
    session: SessionDep,
    runtime: RuntimeDep,
    client_id: Annotated[
        str | None, Query(alias="clientId", max_length=100, description="The organization's slug or id")
    ] = None,
) -> Envelope[Branding]:
    return Envelope(data=await service.public_branding(session, runtime, client_id))


@router.put("/branding", summary="Update branding settings (admin only)")
async def update_branding(
    body: UpdateBranding, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[Branding]:
    return Envelope(data=await service.update_branding(session, runtime, editor, body))


@router.get(
    "/platform-stats",
    summary="Get aggregated platform statistics (public, cached 60s)",
    description="Active organizations and their active users; computed at most once a minute.",
)
async def platform_stats(runtime: RuntimeDep) -> Envelope[PublicPlatformStats]:
    return Envelope(data=await service.public_platform_stats(runtime))


@router.get("/my-branding", summary="Get authenticated branding info for current organization")
async def my_branding(principal: MemberDep, session: SessionDep, runtime: RuntimeDep) -> Envelope[Branding]:
    return Envelope(data=await service.branding(session, runtime, principal.tenant))


@router.get(
    "",
    summary="Get server environment configuration (super admin only)",
    description="The same as `GET /admin/system-config`: effective settings, every secret masked.",
)
async def server_config(_: SuperAdminDep, runtime: RuntimeDep) -> Envelope[SystemConfig]:
    return Envelope(data=effective_config(runtime.settings))


@router.post(
    "/logo",
    summary="Upload company logo (admin only)",
    description=f"Multipart field `logo`: a PNG, JPEG or WebP image (checked by its bytes; 415 "
    f"otherwise) of at most {MAX_LOGO_BYTES} bytes (413 above). Answers the branding with its URL.",
)
async def upload_logo(
    logo: Annotated[UploadFile, File(description="The image")],
    editor: EditorDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Envelope[Branding]:
    data = await logo.read(MAX_LOGO_BYTES + 1)
    return Envelope(data=await service.set_logo(session, runtime, editor, data))


@router.delete("/logo", summary="Remove company logo (admin only)", description="Answers the branding.")
async def remove_logo(editor: EditorDep, session: SessionDep, runtime: RuntimeDep) -> Envelope[Branding]:
    return Envelope(data=await service.remove_logo(session, runtime, editor))


_TOGGLE_SUMMARIES = {
    "auto-categorize": (
        "Check if auto-categorization is enabled for this organization",
        "Toggle auto-categorization (admin only)",
    ),
    "bot-enabled": (
        "Check if the bot is enabled for this organization",
        "Toggle bot enabled/disabled (admin)",
    ),
    "media-auto-display": (
        "Check if media auto-display is enabled for this organization",
        "Toggle media auto-display (admin only)",
    ),
}


def _add_toggle_routes(name: str) -> None:
    read_summary, write_summary = _TOGGLE_SUMMARIES[name]

    async def read(principal: MemberDep, session: SessionDep) -> Envelope[Toggle]:
        return Envelope(data=Toggle(enabled=await service.toggle(session, principal.tenant, name)))

    async def write(body: Toggle, editor: EditorDep, session: SessionDep) -> Envelope[Toggle]:
        return Envelope(data=Toggle(enabled=await service.set_toggle(session, editor, name, body.enabled)))

    slug = name.replace("-", "_")
    router.add_api_route(f"/{name}", read, methods=["GET"], summary=read_summary, operation_id=f"get_{slug}")
    router.add_api_route(
        f"/{name}", write, methods=["PUT"], summary=write_summary, operation_id=f"put_{slug}"
    )


for _name in service.TOGGLES:
    _add_toggle_routes(_name)


@router.get("/bot-mode", summary="Get bot handling mode flags")
async def bot_mode(principal: MemberDep, session: SessionDep) -> Envelope[BotMode]:
    return Envelope(data=await service.bot_mode(session, principal.tenant))


@router.put(
    "/bot-mode",
    summary="Update bot handling mode flags (admin only)",
    description="Flags left out keep their value.",
)
async def update_bot_mode(body: UpdateBotMode, editor: EditorDep, session: SessionDep) -> Envelope[BotMode]:
    return Envelope(data=await service.update_bot_mode(session, editor, body))
