from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status
from fastapi.responses import Response

from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import ReadSessionDep, RuntimeDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.errors import PayloadTooLarge
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.files.service import served_as
from cxinbox.knowledge import media
from cxinbox.knowledge.media_files import MAX_UPLOAD_BYTES
from cxinbox.knowledge.media_schemas import BotMediaOut, BotMediaPatch
from cxinbox.models.identity import Role

router = APIRouter(
    prefix="/bot-config/media", tags=["knowledge-base"], dependencies=[key_scope(Area.SETTINGS)]
)

_ADMIN = "Admins only (403 otherwise)."
_READERS = "Admins and supervisors."
EditorDep = Annotated[Actor, Depends(acting_as(Role.ADMIN))]
_FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/octet-stream": {}}},
    404: {"description": "No such media"},
}


@router.get(
    "",
    summary="List bot media",
    description="The files the bot can send (shared by every bot config), newest first, each with a "
    f"signed URL of {media.URL_TTL_SECONDS // 60} minutes for `<img>`/`<video>` previews. {_READERS}",
)
async def list_media(
    principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[list[BotMediaOut]]:
    items = await media.list_media(session, principal)
    return Envelope(data=[media.present(runtime, m) for m in items])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a bot media file",
    description="Multipart field `file` (+ optional `name`, `description`: when the bot should send "
    "it, `tags`: comma-separated). Recognised by its content, not its declared type: a JPEG or PNG "
    "image (5 MB), an MP4/3GP video (16 MB), AAC/MP3/OGG audio (16 MB) or a PDF/Office document "
    "(100 MB), WhatsApp's limits (413 past them, 415 for anything else; an image that cannot be "
    f"decoded, or declares too many pixels, 415 `UNREADABLE_IMAGE`). {_ADMIN}",
    responses={413: {"description": "Too large"}, 415: {"description": "Not a type WhatsApp sends"}},
)
async def upload_media(
    file: Annotated[UploadFile, File(description="The file")],
    editor: EditorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    name: Annotated[str | None, Form(max_length=100, description="Defaults to the file's name")] = None,
    description: Annotated[str, Form(max_length=2000, description="When the bot should send it")] = "",
    tags: Annotated[str | None, Form(max_length=1100, description="Comma-separated")] = None,
) -> Envelope[BotMediaOut]:
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"The file exceeds {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    clean_name = name.strip() if name and name.strip() else None
    item = await media.upload(
        session, runtime, editor, data, file.filename, clean_name, description.strip(), media.parse_tags(tags)
    )
    return Envelope(data=media.present(runtime, item))


@router.patch(
    "/{id}",
    summary="Update bot media metadata",
    description="`name`, `description` (when the bot should send it), `tags`: only those sent "
    f"change. {_ADMIN}",
)
async def update_media(
    id: str, body: BotMediaPatch, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BotMediaOut]:
    return Envelope(data=media.present(runtime, await media.update(session, editor, id, body)))


@router.delete("/{id}", summary="Delete a bot media file", description=_ADMIN)
async def delete_media(
    id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[Deleted]:
    await media.delete(session, runtime, editor, id)
    return Envelope(data=Deleted(id=id))


@router.get(
    "/{id}/file",
    summary="Serve bot media file for preview",
    description=f"The original bytes with their type (documents as a download). {_READERS}",
    response_class=Response,
    responses=_FILE_RESPONSES,
)
async def media_file(
    id: str, principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Response:
    return await _serve(session, runtime, principal, id, thumbnail=False)


@router.get(
    "/{id}/thumbnail",
    summary="Serve video thumbnail image",
    description="A JPEG preview at most 320 px a side: an image's scaled-down copy, a video's first "
    "frame (made when ffmpeg is installed). Otherwise 404 `THUMBNAIL_NOT_AVAILABLE`. "
    f"{_READERS}",
    response_class=Response,
    responses=_FILE_RESPONSES,
)
async def media_thumbnail(
    id: str, principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Response:
    return await _serve(session, runtime, principal, id, thumbnail=True)


async def _serve(
    session: ReadSessionDep, runtime: RuntimeDep, principal: SupervisorDep, media_id: str, *, thumbnail: bool
) -> Response:
    item = await media.get(session, principal, media_id)
    data, content_type, key = await media.read_file(runtime, item, thumbnail=thumbnail)
    media_type, headers = served_as(key, content_type)
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=60", **headers})
