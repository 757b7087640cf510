"""File names someone else chose (a customer's attachment, an uploaded file), made safe to use as
the last segment of a storage key and to show."""

from __future__ import annotations

import os
import unicodedata

#: room for the name in a 255-byte file-system name, with the storage's own suffixes beside it
MAX_NAME_BYTES = 120
#: a longer "extension" is part of the name, not a file type
MAX_EXTENSION_BYTES = 16


def safe_filename(name: str | None, *, max_bytes: int = MAX_NAME_BYTES) -> str | None:
    """The last path segment of ``name`` without control or format characters (NUL, newlines,
    right-to-left overrides), leading or trailing dots and spaces, and cut to ``max_bytes`` of UTF-8
    keeping its extension; ``None`` when nothing is left."""
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(". ")
    stem, extension = os.path.splitext(name)
    if len(extension.encode()) > MAX_EXTENSION_BYTES:
        stem, extension = name, ""
    room = max_bytes - len(extension.encode())
    stem = stem.encode()[:room].decode(errors="ignore").rstrip(". ")
    return (stem + extension) if stem else None
