"""Recognising uploaded attachments by their first bytes (never by the name or the declared type):
the images of ``images.py``, and the videos, audio and documents WhatsApp can send."""

from __future__ import annotations

from dataclasses import dataclass

from cxinbox.files.images import sniff_image

#: how far into a ZIP container to look for the part that names an Office document's kind
_OFFICE_SCAN_BYTES = 64 * 1024
_OFFICE_PARTS = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
)


@dataclass(frozen=True)
class MediaType:
    content_type: str
    extension: str
    kind: str  # image | video | audio | document


def sniff_media(data: bytes) -> MediaType | None:
    """An image, video (MP4, 3GP), audio (M4A, OGG, MP3) or document (PDF, DOCX, XLSX, PPTX), or
    ``None`` for anything else."""
    image = sniff_image(data)
    if image is not None:
        return MediaType(image.content_type, image.extension, "image")
    if data.startswith(b"%PDF-"):
        return MediaType("application/pdf", "pdf", "document")
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand.startswith(b"M4A"):
            return MediaType("audio/mp4", "m4a", "audio")
        if brand.startswith(b"3gp"):
            return MediaType("video/3gpp", "3gp", "video")
        return MediaType("video/mp4", "mp4", "video")
    if data.startswith(b"OggS"):
        return MediaType("audio/ogg", "ogg", "audio")
    if data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return MediaType("audio/mpeg", "mp3", "audio")
    if data.startswith(b"PK\x03\x04"):
        head = data[:_OFFICE_SCAN_BYTES]
        for part, content_type, extension in _OFFICE_PARTS:
            if part in head:
                return MediaType(content_type, extension, "document")
    return None
