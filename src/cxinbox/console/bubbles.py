"""A message as the conversation page shows it: who, when, what (text, a media preview or link, a
location, a reaction) and its delivery, from the API's ``MessageOut``. Every text stays plain text
(the template escapes it); links point at our own origin only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cxinbox.messages.schemas import MessageOut
from cxinbox.models.inbox import Direction, MessageStatus, MessageType
from cxinbox.web.i18n import Translator

_TEXT_TYPES = {MessageType.TEXT, MessageType.BUTTON, MessageType.INTERACTIVE, MessageType.CONTACTS}


@dataclass(frozen=True)
class Bubble:
    id: str
    outbound: bool
    sender: str
    time: str
    text: str | None
    note: str | None
    image_url: str | None
    file_url: str | None
    file_name: str
    status: str
    failed_reason: str | None


def same_origin(url: str) -> str:
    """A file's address on our own origin (its path and query), whatever ``PUBLIC_URL`` says."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _note(t: Translator, message: MessageOut) -> str | None:
    payload: dict[str, Any] = message.payload or {}
    if message.type == MessageType.LOCATION:
        where = payload.get("location") or {}
        return t("location", latitude=where.get("latitude", "?"), longitude=where.get("longitude", "?"))
    if message.type == MessageType.REACTION:
        return t("reaction", emoji=(message.reaction or {}).get("emoji") or "")
    media = message.media
    if media is not None and media.url is None:
        return t("media_failed" if media.download_state == "FAILED" else "media_pending")
    if message.type not in _TEXT_TYPES and media is None and not message.text:
        return t("other_type", type=message.type.value)
    return None


def _failure(message: MessageOut) -> str | None:
    if message.status != MessageStatus.FAILED:
        return None
    error = message.error or {}
    return str(error.get("message") or error.get("code") or "?")


def bubble(t: Translator, message: MessageOut, contact_name: str) -> Bubble:
    media = message.media
    url = same_origin(media.url) if media and media.url else None
    is_image = bool(media and (media.mime_type or "").startswith("image/"))
    failed = _failure(message)
    return Bubble(
        id=message.id,
        outbound=message.direction == Direction.OUTBOUND,
        sender=contact_name if message.direction == Direction.INBOUND else t(f"sender_{message.sender_type}"),
        time=message.timestamp.strftime("%H:%M"),
        text=message.text or (media.caption if media else None),
        note=_note(t, message),
        image_url=url if is_image else None,
        file_url=url if url and not is_image else None,
        file_name=(media.filename if media else None) or (message.type.value if media else ""),
        status=t(f"message_status_{message.status}"),
        failed_reason=t("failed_reason", reason=failed) if failed else None,
    )
