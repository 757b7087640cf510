"""``media``: the organization's bot media (shared by every config) as metadata (name, description,
tags, type, file name, size, SHA-256) and the intents of the config that send each, by name; a
``full`` ZIP adds the files themselves as ``files/media/<sha256>`` (a path made of the digest alone,
never of a name the bundle gives). Never a storage key or a signed URL.

Import, in the import's transaction: media the organization already has (the same SHA-256) is
reused; a new one is created from its file in the ZIP through the media library's own upload, so
its checks apply (a type WhatsApp sends, told by its magic bytes, within the kind's size: 415, 413),
and a file whose bytes are not the declared digest, or not the declared type, answers 400 naming the
section. An entry whose file the bundle does not carry (a JSON bundle, or the ``standard`` tier) is
skipped, and the import's answer says so. The new config's intents named by an entry send it."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from sqlalchemy import select

from cxinbox.bot.schemas import Name
from cxinbox.core.errors import NotFound
from cxinbox.core.wire import RequestModel
from cxinbox.knowledge import media, media_files
from cxinbox.knowledge.media_schemas import MAX_TAGS, Description, Tag
from cxinbox.models.bot import BotIntent
from cxinbox.models.knowledge_media import BotMedia, BotMediaKind
from cxinbox.studio.bundle.archive import FILES_PREFIX
from cxinbox.studio.bundle.registry import ExportContext, ImportContext, Section, Tier
from cxinbox.studio.errors import InvalidBundle

MAX_MEDIA = 1_000
#: where a full ZIP holds the files
MEDIA_PREFIX = f"{FILES_PREFIX}media/"
#: media an intent sends at most (``IntentFields.media_ids``)
MAX_PER_INTENT = 10


class BundleMedia(RequestModel):
    name: Name
    description: Description = ""
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = []
    type: BotMediaKind
    mime_type: Annotated[str, Field(max_length=100)]
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    intents: Annotated[list[Name], Field(max_length=1_000)] = []


_MEDIA = TypeAdapter(Annotated[list[BundleMedia], Field(max_length=MAX_MEDIA)])


async def export_media(ctx: ExportContext) -> list[dict[str, Any]]:
    org = ctx.config.organization_id
    items = list(
        await ctx.session.scalars(
            select(BotMedia).where(BotMedia.organization_id == org).order_by(BotMedia.created_at, BotMedia.id)
        )
    )
    senders: dict[str, list[str]] = {}
    for intent in await ctx.session.scalars(
        select(BotIntent)
        .where(BotIntent.organization_id == org, BotIntent.bot_config_id == ctx.config.id)
        .order_by(BotIntent.order, BotIntent.created_at)
    ):
        for media_id in intent.media_ids or []:
            senders.setdefault(media_id, []).append(intent.name)
    with_files = ctx.files is not None and ctx.tier.carries(Tier.FULL)
    out = []
    for item in items:
        out.append(
            {
                "name": item.name,
                "description": item.description,
                "tags": list(item.tags or []),
                "type": item.kind.value,
                "mimeType": item.mime_type,
                "filename": item.filename,
                "size": item.size,
                "sha256": item.sha256,
                "intents": senders.get(item.id, []),
            }
        )
        if with_files and ctx.files is not None:
            try:
                data = (await media.read_file(ctx.runtime, item, thumbnail=False))[0]
            except NotFound:  # its file is gone from the store: the metadata goes, an import skips it
                continue
            ctx.files[MEDIA_PREFIX + item.sha256] = data
    return out


def validate_media(value: Any) -> list[BundleMedia]:
    return _MEDIA.validate_python(value)


async def write_media(ctx: ImportContext, value: list[BundleMedia]) -> None:
    org = ctx.config.organization_id
    stmt = select(BotMedia.sha256, BotMedia.id).where(BotMedia.organization_id == org)
    held: dict[str, str] = {sha: media_id for sha, media_id in (await ctx.session.execute(stmt)).all()}
    intents = {
        i.name: i
        for i in await ctx.session.scalars(
            select(BotIntent).where(
                BotIntent.organization_id == org, BotIntent.bot_config_id == ctx.config.id
            )
        )
    }
    for item in value:
        media_id = held.get(item.sha256)
        if media_id is None:
            data = ctx.files.get(MEDIA_PREFIX + item.sha256)
            if data is None:
                ctx.notes.append(f"Media {item.name!r} was skipped: the bundle does not carry its file")
                continue
            media_id = held[item.sha256] = (await _created(ctx, item, data)).id
        for name in item.intents:
            intent = intents.get(name)
            if (
                intent is not None
                and media_id not in intent.media_ids
                and len(intent.media_ids) < MAX_PER_INTENT
            ):
                intent.media_ids = [*intent.media_ids, media_id]
    await ctx.session.flush()


async def _created(ctx: ImportContext, item: BundleMedia, data: bytes) -> BotMedia:
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise _invalid(f"the file of {item.name!r} is not the one its SHA-256 names")
    recognised = media_files.recognise(data)
    if recognised.mime_type != item.mime_type:
        raise _invalid(f"{item.name!r} declares {item.mime_type} but its file is {recognised.mime_type}")
    return await media.upload(
        ctx.session, ctx.runtime, ctx.editor, data, item.filename, item.name, item.description, item.tags
    )


def _invalid(reason: str) -> InvalidBundle:
    return InvalidBundle(f"Section 'media' is invalid: {reason}", details=[{"field": "sections.media"}])


SECTION = Section("media", Tier.STANDARD, export_media, validate_media, write_media)
