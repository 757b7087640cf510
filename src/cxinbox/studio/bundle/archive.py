"""The bundle as a file: a JSON file, or a ZIP holding ``bundle.json`` and ``files/*``.

A ZIP is read defensively, before anything is decompressed: at most ``MAX_MEMBERS`` members, none
over ``MAX_MEMBER_BYTES`` or compressed more than ``MAX_RATIO`` times, at most ``MAX_TOTAL_BYTES``
in all (413 for any of these); no absolute path, ``..``, backslash or drive letter, no symlink, no
encrypted member, no name twice (400). ``zipfile`` never returns more bytes than a member declares,
so the declared sizes bound what is read."""

from __future__ import annotations

import io
import json
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

from cxinbox.core.errors import PayloadTooLarge, UnsupportedMediaType
from cxinbox.studio.errors import InvalidBundle

MB = 1024 * 1024
#: a JSON bundle, and the ZIP's ``bundle.json``
MAX_JSON_BYTES = 10 * MB
#: the uploaded file, JSON or ZIP
MAX_UPLOAD_BYTES = 50 * MB
MAX_MEMBERS = 2_000
MAX_MEMBER_BYTES = 25 * MB
MAX_TOTAL_BYTES = 200 * MB
MAX_RATIO = 100
BUNDLE_MEMBER = "bundle.json"
FILES_PREFIX = "files/"


@dataclass
class Upload:
    document: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


def read_upload(data: bytes) -> Upload:
    """The bundle in ``data``, told apart by its content: a ZIP's signature or a JSON object."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"A bundle may be at most {MAX_UPLOAD_BYTES // MB} MB")
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _read_zip(data)
    if data.lstrip()[:1] == b"{":
        return Upload(_parse_json(data))
    raise UnsupportedMediaType("The bundle must be a JSON file or a ZIP")


def _parse_json(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"A JSON bundle may be at most {MAX_JSON_BYTES // MB} MB")
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidBundle("The bundle is not valid JSON") from exc
    if not isinstance(document, dict):
        raise InvalidBundle("The bundle must be a JSON object")
    return document


def _read_zip(data: bytes) -> Upload:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = _checked_members(archive.infolist())
        contents = {info.filename: _read_member(archive, info) for info in members}
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as exc:
        raise InvalidBundle("The ZIP is damaged or uses an unsupported compression") from exc
    if BUNDLE_MEMBER not in contents:
        raise InvalidBundle(f"The ZIP has no {BUNDLE_MEMBER}")
    files = {name: body for name, body in contents.items() if name.startswith(FILES_PREFIX)}
    return Upload(_parse_json(contents[BUNDLE_MEMBER]), files)


def _checked_members(infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The members to read (``bundle.json`` and ``files/*``), after every member passed the rules."""
    if len(infos) > MAX_MEMBERS:
        raise PayloadTooLarge(f"A ZIP bundle may hold at most {MAX_MEMBERS} files")
    seen: set[str] = set()
    total = 0
    for info in infos:
        _check_name(info.filename)
        if info.filename in seen:
            raise InvalidBundle(f"The ZIP holds {info.filename!r} twice")
        seen.add(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InvalidBundle(f"The ZIP member {info.filename!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise InvalidBundle(f"The ZIP member {info.filename!r} is encrypted")
        if info.file_size > MAX_MEMBER_BYTES:
            raise PayloadTooLarge(f"A file in the ZIP may be at most {MAX_MEMBER_BYTES // MB} MB")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PayloadTooLarge(f"The ZIP member {info.filename!r} is compressed suspiciously well")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise PayloadTooLarge(f"A ZIP bundle may hold at most {MAX_TOTAL_BYTES // MB} MB")
    return [
        i
        for i in infos
        if not i.is_dir() and (i.filename == BUNDLE_MEMBER or i.filename.startswith(FILES_PREFIX))
    ]


def _check_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or ":" in name
        or "\x00" in name
        or any(part in ("..", ".") for part in parts)
    ):
        raise InvalidBundle(f"The ZIP member name {name!r} is not allowed")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as member:
        return member.read(info.file_size + 1)


def write_zip(document: dict[str, Any], files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(BUNDLE_MEMBER, json_bytes(document))
        for name, body in sorted(files.items()):
            archive.writestr(name, body)
    return buffer.getvalue()


def json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode()
