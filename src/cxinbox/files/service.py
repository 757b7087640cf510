"""Stored files by URL: which keys a request may name, who may read them, and how they are served.

A key is a plain relative path (``public/avatars/<id>.png``); one that is not (``..``, ``.``, empty
segments, backslashes, control characters) names no file, so ``public/../<private key>`` cannot
borrow the public prefix. Public keys are served openly, every other key by signed URL.

Files hold what customers sent, so a browser must never run them on this origin: only raster images,
audio and video are shown inline; passive documents are downloaded with their own type; anything
else (HTML, SVG, XML, scripts, unknown types) is downloaded as ``application/octet-stream``. Every
file carries ``Content-Security-Policy: sandbox`` and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

from cxinbox.core.crypto import derive_key
from cxinbox.runtime import Runtime

PUBLIC_PREFIX = "public/"
FILES_PATH = "/api/v1/files/"

#: shown in the browser: raster images, audio and video run nothing (SVG is a document: it does)
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "audio/aac",
        "audio/amr",
        "audio/mp4",
        "audio/mpeg",
        "audio/ogg",
        "audio/opus",
        "audio/wav",
        "audio/webm",
        "video/3gpp",
        "video/mp4",
        "video/quicktime",
        "video/webm",
    }
)
#: downloaded, keeping their type: documents WhatsApp carries that a browser does not run here
ATTACHMENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "text/plain",
    }
)
OPAQUE_TYPE = "application/octet-stream"
SAFETY_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


def is_plain_key(key: str) -> bool:
    """Whether ``key`` is a relative path of ordinary segments (nothing that a path resolver or a
    file system would read as something else)."""
    if not key or "\\" in key or any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        return False
    return all(segment not in ("", ".", "..") for segment in key.split("/"))


def _signature(runtime: Runtime, key: str, expires: int) -> str:
    secret = derive_key(runtime.settings.effective_secret_key, "file-urls")
    return hmac.new(secret, f"{key}:{expires}".encode(), hashlib.sha256).hexdigest()


def file_url(runtime: Runtime, key: str, *, ttl_seconds: int = 3600) -> str:
    """An absolute URL for ``key``: permanent for public keys, signed and short-lived otherwise."""
    base = runtime.settings.public_url.rstrip("/") + FILES_PATH + quote(key)
    if key.startswith(PUBLIC_PREFIX):
        return base
    expires = int(time.time()) + ttl_seconds
    return f"{base}?expires={expires}&signature={_signature(runtime, key, expires)}"


def url_is_valid(runtime: Runtime, key: str, expires: int | None, signature: str | None) -> bool:
    if not is_plain_key(key):
        return False
    if key.startswith(PUBLIC_PREFIX):
        return True
    if expires is None or signature is None or expires < time.time():
        return False
    return hmac.compare_digest(_signature(runtime, key, expires), signature)


def served_as(key: str, content_type: str) -> tuple[str, dict[str, str]]:
    """The Content-Type and the headers a stored file is answered with."""
    base_type = content_type.split(";", 1)[0].strip().lower()
    if base_type in INLINE_TYPES:
        return base_type, dict(SAFETY_HEADERS)
    served = base_type if base_type in ATTACHMENT_TYPES else OPAQUE_TYPE
    return served, {**SAFETY_HEADERS, "Content-Disposition": _attachment(key.rsplit("/", 1)[-1])}


def _attachment(name: str) -> str:
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
