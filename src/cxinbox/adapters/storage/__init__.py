"""File storage port. Local disk by default; another backend (S3-compatible) implements the same
four methods. Keys are relative paths chosen by the caller, e.g. ``public/avatars/<id>.png``."""

from __future__ import annotations

import asyncio
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    content_type: str


class FileStorage(Protocol):
    async def save(self, key: str, data: bytes, content_type: str) -> StoredFile: ...

    async def read(self, key: str) -> tuple[bytes, str]: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...


class LocalDiskStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError("storage key escapes the storage root")
        return path

    async def save(self, key: str, data: bytes, content_type: str) -> StoredFile:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
            path.with_name(path.name + ".type").write_text(content_type)

        await asyncio.to_thread(write)
        return StoredFile(key, len(data), content_type)

    async def read(self, key: str) -> tuple[bytes, str]:
        path = self._path(key)

        def load() -> tuple[bytes, str]:
            data = path.read_bytes()
            type_file = path.with_name(path.name + ".type")
            if type_file.exists():
                return data, type_file.read_text()
            return data, mimetypes.guess_type(path.name)[0] or "application/octet-stream"

        try:
            return await asyncio.to_thread(load)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise KeyError(key) from exc

    async def delete(self, key: str) -> None:
        path = self._path(key)

        def remove() -> None:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".type").unlink(missing_ok=True)

        await asyncio.to_thread(remove)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)
