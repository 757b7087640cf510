"""Which files WhatsApp takes as which message type, and how large (Meta's limits per type)."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from cxinbox.core.errors import PayloadTooLarge, UnsupportedMediaType
from cxinbox.files.images import sniff_image
from cxinbox.models.inbox import MessageType

MB = 1024 * 1024


@dataclass(frozen=True)
class MediaKind:
    type: MessageType
    max_bytes: int


_IMAGE = MediaKind(MessageType.IMAGE, 5 * MB)
_STICKER = MediaKind(MessageType.STICKER, 500 * 1024)
_VIDEO = MediaKind(MessageType.VIDEO, 16 * MB)
_AUDIO = MediaKind(MessageType.AUDIO, 16 * MB)
_DOCUMENT = MediaKind(MessageType.DOCUMENT, 100 * MB)

KINDS: dict[str, MediaKind] = {
    "image/jpeg": _IMAGE,
    "image/png": _IMAGE,
    "image/webp": _STICKER,
    "video/mp4": _VIDEO,
    "video/3gpp": _VIDEO,
    "audio/aac": _AUDIO,
    "audio/amr": _AUDIO,
    "audio/mpeg": _AUDIO,
    "audio/mp4": _AUDIO,
    "audio/ogg": _AUDIO,
    "text/plain": _DOCUMENT,
    "text/csv": _DOCUMENT,
    "application/pdf": _DOCUMENT,
    "application/msword": _DOCUMENT,
    "application/vnd.ms-excel": _DOCUMENT,
    "application/vnd.ms-powerpoint": _DOCUMENT,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _DOCUMENT,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _DOCUMENT,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _DOCUMENT,
}

GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


@dataclass(frozen=True)
class Upload:
    mime_type: str
    kind: MediaKind


def classify(data: bytes, declared_type: str | None, filename: str) -> Upload:
    """The WhatsApp media type of an upload; 415 for a type WhatsApp does not take, 413 over its
    limit. Images are recognised by their bytes, whatever the upload declares."""
    image = sniff_image(data)
    mime_type = image.content_type if image else _declared(declared_type, filename)
    kind = KINDS.get(mime_type)
    if kind is None or (mime_type.startswith("image/") and image is None):
        raise UnsupportedMediaType(f"WhatsApp does not take files of type {mime_type or 'unknown'}")
    if len(data) > kind.max_bytes:
        raise PayloadTooLarge(f"WhatsApp takes {kind.type.value} files up to {kind.max_bytes} bytes")
    return Upload(mime_type, kind)


def _declared(declared_type: str | None, filename: str) -> str:
    mime_type = (declared_type or "").split(";")[0].strip().lower()
    if mime_type in GENERIC_TYPES:
        mime_type = mimetypes.guess_type(filename)[0] or ""
    return mime_type
