"""``/bot-config`` export and import: the bundle as a JSON file or a ZIP. Export reads (ADMIN and
SUPERVISOR); import writes a new draft (ADMIN)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile, status

from cxinbox.audit.request import Actor
from cxinbox.auth.dependencies import ReadSessionDep, RuntimeDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.bot import configs
from cxinbox.bot.errors import BotNotAvailable
from cxinbox.bot.router import ConfigParam, EditorDep
from cxinbox.core.errors import AppError, PayloadTooLarge, UnsupportedMediaType
from cxinbox.core.wire import Envelope
from cxinbox.models.bot import BotConfig
from cxinbox.studio.bundle import archive
from cxinbox.studio.bundle.registry import Tier
from cxinbox.studio.bundle.service import check, export_bundle, import_as_draft
from cxinbox.studio.errors import InvalidBundle
from cxinbox.studio.schemas import ImportedConfigOut

router = APIRouter(prefix="/bot-config", tags=["bot-studio"], dependencies=[key_scope(Area.SETTINGS)])

_NEVER_SECRETS = "Never any secret: no API key, N8N secret or connection credential."


class ZipTier(StrEnum):
    STANDARD = "standard"
    FULL = "full"


async def _importer(request: Request, editor: EditorDep) -> Actor:
    """The admin importing, once the request is known to be multipart (415 otherwise)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType("Send the bundle as multipart/form-data, in the field `file`")
    return editor


@router.get(
    "/export",
    summary="Export bot config as JSON file",
    description='A download, `{format: "cxinbox.bot-bundle", version: 1, tier, exportedAt, sections}`. '
    "`config`: the config's settings, prompt, mode, categories and intents (tools and teams by name); "
    "`standard` adds the prompt history, the presets (without keys), the knowledge documents' "
    "text and the bot media's metadata (name, description, tags, type, size, digest, the intents "
    "that send it; never a storage path or URL); `full` adds the documents' chunks. "
    f"{_NEVER_SECRETS} Admins and supervisors.",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {}}, "description": "The bundle"},
        **AppError.responses(BotNotAvailable),
    },
)
async def export_json(
    principal: SupervisorDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    tier: Annotated[Tier, Query(description="How much the bundle carries")] = Tier.CONFIG,
    config_id: ConfigParam = None,
) -> Response:
    config = await configs.config_or_active(session, principal, config_id)
    document = await export_bundle(session, runtime, config, tier)
    return _download(archive.json_bytes(document), "application/json", config, tier, "json")


@router.get(
    "/export-zip",
    summary="Export bot config as ZIP with binary files",
    description="A ZIP holding `bundle.json` (as `export`) and, at `full`, the knowledge documents' "
    "original files as `files/<sha256>` and the bot media's files as `files/media/<sha256>`. "
    f" {_NEVER_SECRETS} Admins and supervisors.",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The bundle"},
        **AppError.responses(BotNotAvailable),
    },
)
async def export_zip(
    principal: SupervisorDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    tier: Annotated[ZipTier, Query(description="How much the bundle carries")] = ZipTier.STANDARD,
    config_id: ConfigParam = None,
) -> Response:
    config = await configs.config_or_active(session, principal, config_id)
    files: dict[str, bytes] = {}
    document = await export_bundle(session, runtime, config, Tier(tier.value), files)
    return _download(archive.write_zip(document, files), "application/zip", config, Tier(tier.value), "zip")


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    summary="Import bot config from JSON or ZIP file",
    description="Multipart, the bundle in the field `file` (a JSON bundle or a ZIP from `export-zip`). "
    "The whole bundle is checked before anything is written, then written in one transaction as a "
    "new draft config (`activate=true`: made the active config). A broken section answers 400 "
    "INVALID_BUNDLE naming it, a newer bundle version 400 BUNDLE_VERSION_UNSUPPORTED; more than "
    f"{archive.MAX_UPLOAD_BYTES // archive.MB} MB (a JSON bundle: {archive.MAX_JSON_BYTES // archive.MB} MB) "
    f"413; anything but JSON or ZIP 415. A ZIP may hold at most {archive.MAX_MEMBERS} files, "
    f"each at most {archive.MAX_MEMBER_BYTES // archive.MB} MB and compressed at most "
    f"{archive.MAX_RATIO} times, {archive.MAX_TOTAL_BYTES // archive.MB} MB in all (413), and no "
    "absolute or `..` path, symbolic link or encrypted file (400). Bot media is created from its "
    "file in the ZIP, checked as an upload to the media library (415, 413; a file that is not its "
    "declared digest or type: 400); media the organization has is reused, and media whose file the "
    "bundle lacks is skipped, as `importNotes` (Addition) says. Keys are never imported: set them "
    "on the new config. Admins only.",
    responses=AppError.responses(
        InvalidBundle, InvalidBundle(code="BUNDLE_VERSION_UNSUPPORTED"), PayloadTooLarge, UnsupportedMediaType
    ),
)
async def import_bundle(
    editor: Annotated[Actor, Depends(_importer)],
    file: Annotated[UploadFile, File(description="The bundle: JSON or ZIP")],
    session: SessionDep,
    runtime: RuntimeDep,
    activate: Annotated[bool, Query(description="Addition: make the imported config the active one")] = False,
) -> Envelope[ImportedConfigOut]:
    upload = archive.read_upload(await file.read(archive.MAX_UPLOAD_BYTES + 1))
    bundle = check(upload.document)
    notes: list[str] = []
    config = await import_as_draft(
        session, runtime, editor, bundle, upload.files, activate=activate, notes=notes
    )
    return Envelope(
        data=ImportedConfigOut(**configs.present(runtime, config).model_dump(), import_notes=notes)
    )


def _download(body: bytes, media_type: str, config: BotConfig, tier: Tier, extension: str) -> Response:
    slug = re.sub(r"[^a-z0-9]+", "-", config.name.lower()).strip("-") or "bot"
    filename = f"{slug[:60]}-{tier.value}.{extension}"
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
