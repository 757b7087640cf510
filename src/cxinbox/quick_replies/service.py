"""Rules for quick replies: shortcuts unique within the organization, an optional attachment
recognised by its content, and variables filled for the conversation they are used in. Creating,
changing (the attachment too) and deleting a quick reply is written to the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.core.crypto import random_token
from cxinbox.core.db import after_commit
from cxinbox.core.errors import Conflict, PayloadTooLarge, UnsupportedMediaType
from cxinbox.core.events import publish_event
from cxinbox.files.media_types import sniff_media
from cxinbox.files.names import safe_filename
from cxinbox.files.service import file_url
from cxinbox.models.quick_replies import QuickReply
from cxinbox.quick_replies import variables
from cxinbox.quick_replies.repository import QuickReplyRepository
from cxinbox.quick_replies.schemas import (
    CreateQuickReply,
    QuickReplyFilter,
    QuickReplyMedia,
    QuickReplyOut,
    UpdateQuickReply,
)
from cxinbox.runtime import Runtime

MAX_MEDIA_BYTES = 16 * 1024 * 1024
MEDIA_PREFIX = "quick-replies/"


class ShortcutTaken(Conflict):
    code = "SHORTCUT_TAKEN"
    message = "Another quick reply of the organization has this shortcut"


async def list_quick_replies(
    session: AsyncSession,
    principal: Principal,
    *,
    active_only: bool,
    conversation_id: str | None,
) -> tuple[Sequence[QuickReply], variables.Values | None]:
    """The quick replies (by shortcut), and the variables' values in ``conversation_id``."""
    values = await variables.values_for(session, principal, conversation_id) if conversation_id else None
    criteria = QuickReplyFilter(is_active=True if active_only else None)
    return await QuickReplyRepository(session, principal.tenant).listed(criteria), values


async def create_quick_reply(
    session: AsyncSession, runtime: Runtime, editor: Actor, body: CreateQuickReply
) -> QuickReply:
    repo = QuickReplyRepository(session, editor.principal.tenant)
    await _ensure_shortcut_free(repo, body.shortcut)
    reply = repo.add(
        QuickReply(
            title=body.title,
            shortcut=body.shortcut,
            content=body.content,
            category=body.category,
            is_active=body.is_active,
            created_by_id=editor.principal.user_id,
        )
    )
    await repo.flush()
    publish(session, runtime, "quick_reply.created", reply)
    _audit(session, editor, "quick_reply.created", reply)
    return reply


async def update_quick_reply(
    session: AsyncSession, runtime: Runtime, editor: Actor, reply_id: str, body: UpdateQuickReply
) -> QuickReply:
    repo = QuickReplyRepository(session, editor.principal.tenant)
    reply = await repo.get_or_404(reply_id)
    if body.shortcut is not None and body.shortcut != reply.shortcut:
        await _ensure_shortcut_free(repo, body.shortcut)
    changed: set[str] = set()
    for field in body.model_fields_set & {"title", "shortcut", "content", "is_active", "category"}:
        value = getattr(body, field)
        if (value is not None or field == "category") and value != getattr(reply, field):
            setattr(reply, field, value)
            changed.add(field)
    await repo.flush()
    publish(session, runtime, "quick_reply.updated", reply)
    if changed:
        _audit_update(session, editor, reply, body.model_dump(by_alias=True, include=changed))
    return reply


async def delete_quick_reply(session: AsyncSession, runtime: Runtime, editor: Actor, reply_id: str) -> None:
    repo = QuickReplyRepository(session, editor.principal.tenant)
    await remove(session, runtime, editor, await repo.get_or_404(reply_id))


async def remove(session: AsyncSession, runtime: Runtime, editor: Actor, reply: QuickReply) -> None:
    """Delete the quick reply; its file goes once that is committed."""
    _replace_media(session, runtime, reply, None)
    await session.delete(reply)
    await session.flush()
    publish_event(session, reply.organization_id, "quick_reply.deleted", {"id": reply.id})
    _audit(session, editor, "quick_reply.deleted", reply)


async def set_active(
    session: AsyncSession, runtime: Runtime, editor: Actor, reply: QuickReply, active: bool
) -> None:
    if reply.is_active != active:
        reply.is_active = active
        await session.flush()
        publish(session, runtime, "quick_reply.updated", reply)
        _audit_update(session, editor, reply, {"isActive": active})


async def attach_media(
    session: AsyncSession,
    runtime: Runtime,
    editor: Actor,
    reply_id: str,
    data: bytes,
    filename: str | None,
) -> QuickReply:
    """Store an image, video, audio or document (recognised by its bytes, 415 otherwise) under a new
    key; the previous attachment's file goes once that is committed."""
    if len(data) > MAX_MEDIA_BYTES:
        raise PayloadTooLarge(f"The attachment exceeds {MAX_MEDIA_BYTES} bytes")
    kind = sniff_media(data)
    if kind is None:
        raise UnsupportedMediaType(
            "The attachment must be an image (PNG, JPEG, GIF, WebP), a video (MP4, 3GP), audio "
            "(M4A, OGG, MP3) or a document (PDF, DOCX, XLSX, PPTX)"
        )
    reply = await QuickReplyRepository(session, editor.principal.tenant).get_or_404(reply_id)
    key = f"{MEDIA_PREFIX}{reply.organization_id}/{reply.id}/{random_token(12)}.{kind.extension}"
    await runtime.storage.save(key, data, kind.content_type)
    media = {
        "storageKey": key,
        "mimeType": kind.content_type,
        "kind": kind.kind,
        "size": len(data),
        "filename": safe_filename(filename),
    }
    _replace_media(session, runtime, reply, media)
    await session.flush()
    publish(session, runtime, "quick_reply.updated", reply)
    described = {name: media[name] for name in ("filename", "mimeType", "size")}
    _audit_update(session, editor, reply, {"media": described})
    return reply


async def detach_media(session: AsyncSession, runtime: Runtime, editor: Actor, reply_id: str) -> QuickReply:
    reply = await QuickReplyRepository(session, editor.principal.tenant).get_or_404(reply_id)
    if reply.media is not None:
        _replace_media(session, runtime, reply, None)
        await session.flush()
        publish(session, runtime, "quick_reply.updated", reply)
        _audit_update(session, editor, reply, {"media": None})
    return reply


def present(runtime: Runtime, reply: QuickReply, values: variables.Values | None = None) -> QuickReplyOut:
    media = reply.media
    return QuickReplyOut(
        id=reply.id,
        title=reply.title,
        shortcut=reply.shortcut,
        content=reply.content,
        category=reply.category,
        is_active=reply.is_active,
        media=None
        if media is None
        else QuickReplyMedia(
            kind=media["kind"],
            mime_type=media["mimeType"],
            filename=media.get("filename"),
            size=media["size"],
            url=file_url(runtime, media["storageKey"]),
        ),
        variables=variables.variables_in(reply.content),
        rendered_content=None if values is None else variables.render(reply.content, values),
        created_by_id=reply.created_by_id,
        created_at=reply.created_at,
        updated_at=reply.updated_at,
    )


def publish(session: AsyncSession, runtime: Runtime, type: str, reply: QuickReply) -> None:
    data = present(runtime, reply).model_dump(mode="json", by_alias=True)
    publish_event(session, reply.organization_id, type, data)


def _audit(
    session: AsyncSession,
    editor: Actor,
    action: str,
    reply: QuickReply,
    details: dict[str, Any] | None = None,
) -> None:
    editor.record(
        session,
        action,
        target_type="quick_reply",
        target_id=reply.id,
        details={"shortcut": reply.shortcut, "title": reply.title, **(details or {})},
    )


def _audit_update(session: AsyncSession, editor: Actor, reply: QuickReply, changes: dict[str, Any]) -> None:
    """``changes``: the new value of each field that changed, by its wire name."""
    _audit(session, editor, "quick_reply.updated", reply, {"changes": changes})


def _replace_media(
    session: AsyncSession, runtime: Runtime, reply: QuickReply, media: dict[str, Any] | None
) -> None:
    previous, reply.media = reply.media, media
    if previous is not None:
        key = previous["storageKey"]
        after_commit(session, lambda: runtime.storage.delete(key))


async def _ensure_shortcut_free(repo: QuickReplyRepository, shortcut: str) -> None:
    if await repo.by_shortcut(shortcut) is not None:
        raise ShortcutTaken(details=[{"field": "shortcut", "message": "already used by another quick reply"}])
