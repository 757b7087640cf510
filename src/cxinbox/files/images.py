"""Recognising uploaded images by their first bytes (magic numbers), never by the name or the
declared Content-Type, which the client chooses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageType:
    content_type: str
    extension: str


PNG = ImageType("image/png", "png")
JPEG = ImageType("image/jpeg", "jpg")
GIF = ImageType("image/gif", "gif")
WEBP = ImageType("image/webp", "webp")


def sniff_image(data: bytes) -> ImageType | None:
    """PNG, JPEG, GIF or WebP, or ``None`` for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None
