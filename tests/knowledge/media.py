"""Files for the bot media tests, built here: images (with metadata), a decompression bomb, video,
audio and documents by their magic bytes."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import httpx
from PIL import Image

from tests.fixtures.factories import Member


def image(kind: str = "PNG", size: tuple[int, int] = (800, 600), **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, kind, **save)
    return out.getvalue()


def jpeg_with_exif(make: str) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = make  # the camera's maker
    return image("JPEG", exif=exif.tobytes())


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 60_000) -> bytes:
    """A small PNG whose header declares ``side`` × ``side`` pixels (billions of bytes decoded)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2000
OGG = b"OggS\x00\x02" + b"\x00" * 2000
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def upload_media(
    client: httpx.AsyncClient, member: Member, filename: str, data: bytes, content_type: str, **form: str
) -> httpx.Response:
    return await client.post(
        "/bot-config/media", files={"file": (filename, data, content_type)}, data=form, headers=member.headers
    )


async def uploaded(
    client: httpx.AsyncClient, member: Member, filename: str, data: bytes, content_type: str, **form: str
) -> dict[str, Any]:
    r = await upload_media(client, member, filename, data, content_type, **form)
    assert r.status_code == 201, r.text
    media: dict[str, Any] = r.json()["data"]
    return media
