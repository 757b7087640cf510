"""Header files for templates: checked by their bytes, kept here, and given to Meta through its
Resumable Upload API, whose handle goes in a media header's ``example.header_handle``.

``GET /templates/{id}/header-media`` serves the file without a token (WhatsApp fetches it when a
template with that header is sent by link) under a random id nobody can guess; any other id is 404.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.core.db import release_transaction
from cxinbox.core.errors import NotFound, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType
from cxinbox.files.media_types import sniff_media
from cxinbox.files.names import safe_filename
from cxinbox.models.templates import TemplateMedia
from cxinbox.runtime import Runtime
from cxinbox.templates.meta import graph_for
from cxinbox.templates.schemas import UploadedMedia
from cxinbox.templates.service import account_for

#: Meta's limits for template headers, by type
LIMITS = {"image/jpeg": 5 * 1024 * 1024, "image/png": 5 * 1024 * 1024, "video/mp4": 16 * 1024 * 1024}
LIMITS["application/pdf"] = 100 * 1024 * 1024
MAX_BYTES = max(LIMITS.values())
HEADER_MEDIA_PATH = "/api/v1/templates/{id}/header-media"


def header_media_url(runtime: Runtime, public_id: str) -> str:
    return runtime.settings.public_url.rstrip("/") + HEADER_MEDIA_PATH.format(id=public_id)


async def upload(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    data: bytes,
    filename: str | None,
    account_id: str | None,
) -> UploadedMedia:
    if not runtime.settings.meta.app_id:
        raise ServiceUnavailable(
            "Header media goes to Meta through the app's upload API: set CXINBOX_META_APP_ID",
            code="META_APP_NOT_CONFIGURED",
        )
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"A header file is at most {MAX_BYTES} bytes")
    kind = sniff_media(data)
    mime_type = kind.content_type if kind is not None else ""
    if mime_type not in LIMITS:
        raise UnsupportedMediaType("A template header is a JPEG or PNG image, an MP4 video or a PDF document")
    if len(data) > LIMITS[mime_type]:
        raise PayloadTooLarge(f"A {mime_type} header is at most {LIMITS[mime_type]} bytes")
    account = await account_for(session, principal, account_id)
    name = safe_filename(filename) or f"header.{mime_type.rsplit('/', 1)[1]}"
    await release_transaction(session)
    async with graph_for(runtime, account) as graph:
        handle = await graph.resumable_upload(str(runtime.settings.meta.app_id), data, name, mime_type)
    public_id = secrets.token_hex(24)  # 192 random bits, and a path id's characters only
    key = f"template-media/{principal.tenant.organization_id}/{public_id}"
    await runtime.storage.save(key, data, mime_type)
    media = TemplateMedia(
        organization_id=principal.tenant.organization_id,
        public_id=public_id,
        storage_key=key,
        mime_type=mime_type,
        size=len(data),
        filename=name,
        handle=handle,
        created_by_id=principal.user_id,
    )
    session.add(media)
    await session.flush()
    return UploadedMedia(handle=handle, media_id=public_id, url=header_media_url(runtime, public_id))


async def served(session: AsyncSession, runtime: Runtime, public_id: str) -> tuple[bytes, str]:
    media = await session.scalar(select(TemplateMedia).where(TemplateMedia.public_id == public_id))
    if media is None:
        raise NotFound("Header media not found")
    try:
        return await runtime.storage.read(media.storage_key)
    except KeyError as exc:
        raise NotFound("Header media not found") from exc


async def link_for_handle(
    session: AsyncSession, runtime: Runtime, organization_id: str, handle: str
) -> str | None:
    """The public URL of the organization's header file Meta knows by ``handle``."""
    public_id = await session.scalar(
        select(TemplateMedia.public_id).where(
            TemplateMedia.organization_id == organization_id, TemplateMedia.handle == handle
        )
    )
    return header_media_url(runtime, public_id) if public_id else None
