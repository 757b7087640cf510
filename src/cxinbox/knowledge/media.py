"""The bot's media library: files the bot can send (images, video, audio, documents), with the
metadata that tells it when (``name``, ``description``, ``tags``). They belong to the organization,
shared by every bot config. The file never changes once uploaded (only its metadata does), so its
Graph media ids stay good for it (``media_sending``). Uploads, edits and deletions are audited."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.core.db import after_commit, after_rollback
from cxinbox.core.errors import NotFound, ValidationFailed
from cxinbox.files.names import safe_filename
from cxinbox.files.service import file_url
from cxinbox.knowledge import media_files
from cxinbox.knowledge.media_schemas import MAX_TAGS, BotMediaOut, BotMediaPatch
from cxinbox.knowledge.repository import BotMediaRepository
from cxinbox.models.knowledge_media import BotMedia
from cxinbox.runtime import Runtime

STORAGE_PREFIX = "bot-media/"
#: how long a signed URL in a listing serves the file
URL_TTL_SECONDS = 15 * 60


class ThumbnailNotAvailable(NotFound):
    code = "THUMBNAIL_NOT_AVAILABLE"
    message = "This media has no thumbnail (only images, and videos where ffmpeg is installed, have one)"


async def upload(
    session: AsyncSession,
    runtime: Runtime,
    editor: Actor,
    data: bytes,
    filename: str | None,
    name: str | None,
    description: str,
    tags: list[str],
) -> BotMedia:
    recognised = media_files.recognise(data)
    preview = await media_files.thumbnail(recognised.kind, data)
    safe = safe_filename(filename) or f"media.{recognised.extension}"
    media = BotMediaRepository(session, editor.principal.tenant).add(
        BotMedia(
            name=name or safe,
            description=description,
            tags=tags,
            kind=recognised.kind,
            mime_type=recognised.mime_type,
            filename=safe,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key="",
            uploaded_by_id=editor.principal.user_id,
        )
    )
    await session.flush()
    folder = f"{STORAGE_PREFIX}{media.organization_id}/{media.id}"
    media.storage_key = f"{folder}/{safe}"
    await runtime.storage.save(media.storage_key, data, recognised.mime_type)
    if preview is not None:
        media.thumbnail_key = f"{folder}/thumbnail.jpg"
        await runtime.storage.save(media.thumbnail_key, preview, media_files.THUMBNAIL_TYPE)
    keys = _files_of(media)
    after_rollback(session, lambda: _remove(runtime, keys))
    await session.flush()
    _audit(session, editor, "bot_media.created", media)
    return media


async def list_media(session: AsyncSession, principal: Principal) -> Sequence[BotMedia]:
    return await BotMediaRepository(session, principal.tenant).listed()


async def get(session: AsyncSession, principal: Principal, media_id: str) -> BotMedia:
    return await BotMediaRepository(session, principal.tenant).get_or_404(media_id)


async def update(session: AsyncSession, editor: Actor, media_id: str, body: BotMediaPatch) -> BotMedia:
    media = await get(session, editor.principal, media_id)
    if body.name is not None:
        media.name = body.name
    if body.description is not None:
        media.description = body.description
    if body.tags is not None:
        media.tags = body.tags
    await session.flush()
    _audit(session, editor, "bot_media.updated", media)
    return media


async def delete(session: AsyncSession, runtime: Runtime, editor: Actor, media_id: str) -> None:
    """Its Graph media ids go with it; its files after the commit."""
    media = await get(session, editor.principal, media_id)
    keys = _files_of(media)
    await session.delete(media)
    await session.flush()
    after_commit(session, lambda: _remove(runtime, keys))
    _audit(session, editor, "bot_media.deleted", media)


async def read_file(runtime: Runtime, media: BotMedia, *, thumbnail: bool) -> tuple[bytes, str, str]:
    """The bytes, their type and the stored key of the file (or of its preview)."""
    key = media.thumbnail_key if thumbnail else media.storage_key
    if key is None:
        raise ThumbnailNotAvailable()
    try:
        data, content_type = await runtime.storage.read(key)
    except KeyError as exc:
        raise NotFound("The media's file is no longer stored") from exc
    return data, content_type, key


def parse_tags(raw: str | None) -> list[str]:
    """Tags from a multipart form: comma-separated (``a, b``), blanks dropped."""
    tags = [t.strip() for t in (raw or "").split(",") if t.strip()]
    if len(tags) > MAX_TAGS or any(len(t) > 50 for t in tags):
        raise ValidationFailed.field("tags", f"at most {MAX_TAGS} tags of at most 50 characters")
    return tags


def present(runtime: Runtime, media: BotMedia) -> BotMediaOut:
    thumbnail = media.thumbnail_key
    return BotMediaOut(
        id=media.id,
        name=media.name,
        description=media.description,
        tags=list(media.tags or []),
        type=media.kind,
        mime_type=media.mime_type,
        filename=media.filename,
        size=media.size,
        has_thumbnail=thumbnail is not None,
        url=file_url(runtime, media.storage_key, ttl_seconds=URL_TTL_SECONDS),
        thumbnail_url=file_url(runtime, thumbnail, ttl_seconds=URL_TTL_SECONDS) if thumbnail else None,
        created_at=media.created_at,
        updated_at=media.updated_at,
    )


def _files_of(media: BotMedia) -> list[str]:
    return [key for key in (media.storage_key, media.thumbnail_key) if key]


async def _remove(runtime: Runtime, keys: list[str]) -> None:
    for key in keys:
        await runtime.storage.delete(key)


def _audit(session: AsyncSession, editor: Actor, action: str, media: BotMedia) -> None:
    editor.record(
        session,
        action,
        target_type="bot_media",
        target_id=media.id,
        details={"name": media.name, "filename": media.filename, "size": media.size},
    )
