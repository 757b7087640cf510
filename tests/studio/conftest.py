from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx


async def set_prompt(
    client: httpx.AsyncClient, headers: dict[str, str], text: str, **fields: Any
) -> dict[str, Any]:
    r = await client.put("/bot-config", json={"systemPrompt": text, **fields}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def import_file(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    body: bytes,
    name: str = "bundle.json",
    query: str = "",
) -> httpx.Response:
    return await client.post(f"/bot-config/import{query}", files={"file": (name, body)}, headers=headers)


def as_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def minimal_bundle(**sections: Any) -> dict[str, Any]:
    return {
        "format": "cxinbox.bot-bundle",
        "version": 1,
        "sections": {"config": {"name": "Importado", "systemPrompt": "Hola"}, **sections},
    }
