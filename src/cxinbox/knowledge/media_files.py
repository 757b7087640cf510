"""What a bot media upload is, told by its bytes, and its preview.

A file is taken only as a type WhatsApp sends (JPEG and PNG images, MP4 and 3GP video, AAC/M4A, MP3
and OGG audio, PDF and Office documents), recognised by its magic bytes (never the declared type or
the name), within WhatsApp's limit for its kind (images 5 MB, video and audio 16 MB, documents
100 MB; ``cxinbox.whatsapp.outbound.media``).

Previews are JPEGs re-encoded here (no metadata survives) and at most ``THUMBNAIL_SIZE`` pixels a
side. An image is decoded only when its header declares at most ``MAX_IMAGE_PIXELS``, so a
decompression bomb is refused before it costs memory; one that does not decode is refused too. A
video's preview is its first frame, cut by ``ffmpeg`` when it is on the PATH (within
``FFMPEG_TIMEOUT_SECONDS``); without it the video has none.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import structlog
from PIL import Image, UnidentifiedImageError

from cxinbox.core.errors import PayloadTooLarge, UnsupportedMediaType
from cxinbox.files.media_types import sniff_media
from cxinbox.models.inbox import MessageType
from cxinbox.models.knowledge_media import BotMediaKind
from cxinbox.whatsapp.outbound.media import KINDS

log = structlog.get_logger(__name__)

#: the largest file WhatsApp sends (a document); a larger upload is refused unread
MAX_UPLOAD_BYTES = max(kind.max_bytes for kind in KINDS.values())
MAX_IMAGE_PIXELS = 25_000_000
THUMBNAIL_SIZE = 320
THUMBNAIL_TYPE = "image/jpeg"
FFMPEG_TIMEOUT_SECONDS = 20.0
#: what Pillow may decode here (what ``recognise`` takes as an image, and ffmpeg's frames)
_PREVIEWED = ("JPEG", "PNG")

_SENDABLE = {
    MessageType.IMAGE: BotMediaKind.IMAGE,
    MessageType.VIDEO: BotMediaKind.VIDEO,
    MessageType.AUDIO: BotMediaKind.AUDIO,
    MessageType.DOCUMENT: BotMediaKind.DOCUMENT,
}


class UnreadableImage(UnsupportedMediaType):
    code = "UNREADABLE_IMAGE"
    message = "The image cannot be read, or declares more pixels than are decoded here"


@dataclass(frozen=True)
class Recognised:
    kind: BotMediaKind
    mime_type: str
    extension: str


def recognise(data: bytes) -> Recognised:
    """415 for anything WhatsApp does not send as an image, video, audio or document; 413 past
    WhatsApp's limit for the kind."""
    found = sniff_media(data)
    whatsapp = KINDS.get(found.content_type) if found else None
    kind = _SENDABLE.get(whatsapp.type) if whatsapp else None
    if found is None or whatsapp is None or kind is None:
        raise UnsupportedMediaType(
            "The file must be a JPEG or PNG image, an MP4 or 3GP video, AAC, MP3 or OGG audio, or a PDF "
            "or Office document"
        )
    if len(data) > whatsapp.max_bytes:
        raise PayloadTooLarge(f"WhatsApp sends {kind.value.lower()} files up to {whatsapp.max_bytes} bytes")
    return Recognised(kind, found.content_type, found.extension)


async def thumbnail(kind: BotMediaKind, data: bytes) -> bytes | None:
    """The JPEG preview of an image (always: an image that cannot be previewed is refused) or of a
    video (when ffmpeg is present and reads it); None for other kinds."""
    if kind is BotMediaKind.IMAGE:
        return await asyncio.to_thread(image_thumbnail, data)
    if kind is BotMediaKind.VIDEO:
        frame = await _first_frame(data)
        if frame is None:
            return None
        try:
            return await asyncio.to_thread(image_thumbnail, frame)
        except UnreadableImage:
            return None
    return None


def image_thumbnail(data: bytes) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_PREVIEWED) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise UnreadableImage()
                image.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # JPEG: decode scaled down
                image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
                preview = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnreadableImage() from exc
    except Image.DecompressionBombWarning as exc:
        raise UnreadableImage() from exc
    out = io.BytesIO()
    preview.save(out, "JPEG", quality=80)
    return out.getvalue()


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


async def _first_frame(data: bytes) -> bytes | None:
    ffmpeg = ffmpeg_path()
    if ffmpeg is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "video"
        source.write_bytes(data)
        process = await asyncio.create_subprocess_exec(
            ffmpeg,
            *("-nostdin", "-v", "error", "-i", str(source), "-frames:v", "1"),
            *("-vf", f"scale='min({THUMBNAIL_SIZE * 2},iw)':-2", "-f", "image2", "-c:v", "mjpeg", "pipe:1"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            frame, _ = await asyncio.wait_for(process.communicate(), FFMPEG_TIMEOUT_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
            log.info("video_thumbnail_timeout")
            return None
    return frame if process.returncode == 0 and frame else None
