"""Logo uploads: the image type is read from the bytes, never from the client's declared type.

SVG is refused: an SVG can carry scripts, and logos are served from the API's own origin.
"""

from __future__ import annotations

from cxinbox.core.errors import PayloadTooLarge, UnsupportedMediaType

MAX_LOGO_BYTES = 2 * 1024 * 1024

#: content type -> (file extension, test on the first bytes)
_SIGNATURES = {
    "image/png": ("png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/jpeg": ("jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "image/webp": ("webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
}


def check_logo(data: bytes) -> tuple[str, str]:
    """The content type and extension of an acceptable logo; 413 when too large, 415 otherwise."""
    if len(data) > MAX_LOGO_BYTES:
        raise PayloadTooLarge(f"The logo exceeds {MAX_LOGO_BYTES} bytes")
    for content_type, (extension, matches) in _SIGNATURES.items():
        if matches(data[:16]):
            return content_type, extension
    raise UnsupportedMediaType("The logo must be a PNG, JPEG or WebP image")
