"""The bundle's ``media`` section: metadata at ``standard`` (never a storage path or URL), the files
in a ``full`` ZIP under ``files/media/<sha256>``, an import that recreates the media and links the
new config's intents, skips media whose file it lacks (and says so), and refuses hostile entries
(a traversing path, a file past its kind's size, a type that is not the declared one) atomically."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from typing import Any

from sqlalchemy import func, select

from cxinbox.models.bot import BotConfig
from cxinbox.models.knowledge_media import BotMedia
from tests.fixtures.people import error_code
from tests.knowledge.media import PDF, image, uploaded
from tests.studio.conftest import as_json, import_file, minimal_bundle, set_prompt, zipped

PNG = image("PNG", (64, 48))


async def _bot_with_media(client, org) -> dict[str, Any]:
    h = org.admin.headers
    await set_prompt(client, h, "Eres el asistente.")
    media = await uploaded(
        client,
        org.admin,
        "catalogo.png",
        PNG,
        "image/png",
        name="Catálogo",
        description="El catálogo",
        tags="ventas",
    )
    intent = {
        "name": "Catálogo",
        "examples": ["catalogo"],
        "action": "MEDIA",
        "response": "Te envío el catálogo",
        "mediaIds": [media["id"]],
    }
    assert (await client.post("/bot-config/intents", json=intent, headers=h)).status_code == 201
    return media


def _entry(data: bytes, mime: str = "image/png", kind: str = "IMAGE", **extra: Any) -> dict[str, Any]:
    return {
        "name": "Foto",
        "type": kind,
        "mimeType": mime,
        "filename": "foto.png",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        **extra,
    }


async def _counts(runtime, organization_id: str) -> tuple[int, int]:
    async with runtime.sessionmaker() as session:
        configs = await session.scalar(
            select(func.count()).where(BotConfig.organization_id == organization_id)
        )
        media = await session.scalar(select(func.count()).where(BotMedia.organization_id == organization_id))
        return int(configs or 0), int(media or 0)


def _stored_files(runtime, organization_id: str) -> list[str]:
    return [p for p in (str(p) for p in runtime.settings.data_dir.rglob("*")) if organization_id in p]


async def test_standard_carries_metadata_and_intent_links_never_paths_or_urls(client, factory):
    org = await factory.org()
    media = await _bot_with_media(client, org)
    r = await client.get("/bot-config/export?tier=standard", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    [entry] = r.json()["sections"]["media"]
    assert entry == {
        "name": "Catálogo",
        "description": "El catálogo",
        "tags": ["ventas"],
        "type": "IMAGE",
        "mimeType": "image/png",
        "filename": "catalogo.png",
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "intents": ["Catálogo"],
    }
    assert media["id"] not in r.text and "bot-media/" not in r.text and "/files/" not in r.text
    r = await client.get("/bot-config/export?tier=config", headers=org.admin.headers)
    assert "media" not in r.json()["sections"]
    r = await client.get("/bot-config/export-zip?tier=standard", headers=org.admin.headers)
    assert not [n for n in zipfile.ZipFile(io.BytesIO(r.content)).namelist() if n.startswith("files/")]


async def test_a_full_zip_recreates_the_media_and_links_the_intents(client, factory, runtime):
    source, target = await factory.org(), await factory.org()
    await _bot_with_media(client, source)
    r = await client.get("/bot-config/export-zip?tier=full", headers=source.admin.headers)
    members = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert f"files/media/{hashlib.sha256(PNG).hexdigest()}" in members
    h = target.admin.headers
    for _ in range(2):  # the second import reuses the media the first created
        imported = await import_file(client, h, r.content, name="bot.zip")
        assert imported.status_code == 201, imported.text
        assert imported.json()["data"]["importNotes"] == []
    [media] = (await client.get("/bot-config/media", headers=h)).json()["data"]
    assert (media["name"], media["description"], media["tags"]) == ("Catálogo", "El catálogo", ["ventas"])
    download = await client.get(f"/bot-config/media/{media['id']}/file", headers=h)
    assert download.status_code == 200 and download.content == PNG
    draft_id = imported.json()["data"]["id"]
    intents = (await client.get(f"/bot-config/intents?botConfigId={draft_id}", headers=h)).json()["data"]
    assert [(i["name"], i["mediaIds"]) for i in intents] == [("Catálogo", [media["id"]])]


async def test_media_without_its_file_is_skipped_and_the_answer_says_so(client, factory, runtime):
    source, target = await factory.org(), await factory.org()
    await _bot_with_media(client, source)
    r = await client.get("/bot-config/export?tier=standard", headers=source.admin.headers)
    imported = await import_file(client, target.admin.headers, r.content)
    assert imported.status_code == 201, imported.text
    [note] = imported.json()["data"]["importNotes"]
    assert "Catálogo" in note and "skipped" in note
    assert await _counts(runtime, target.id) == (1, 0)


def _bundle_zip(entry: dict[str, Any], files: dict[str, bytes]) -> bytes:
    return zipped({"bundle.json": as_json(minimal_bundle(media=[entry])), **files})


def _carrying(data: bytes, declared: bytes | None = None, **extra: Any) -> bytes:
    """A ZIP whose entry declares ``declared`` (else ``data``) as a PNG and holds ``data`` under the
    declared digest."""
    entry = _entry(declared if declared is not None else data, **extra)
    return _bundle_zip(entry, {f"files/media/{entry['sha256']}": data})


EXECUTABLE = b"MZ\x90\x00" * 100


async def test_hostile_media_entries_are_refused_and_nothing_is_written(client, factory, runtime):
    org = await factory.org()
    h = org.admin.headers
    big = b"\x89PNG\r\n\x1a\n" + os.urandom(6 * 1024 * 1024)
    cases = [
        # a digest that would walk out of files/media/, and a member that does
        (as_json(minimal_bundle(media=[{**_entry(PNG), "sha256": "../../../etc/passwd"}])), 400, "media"),
        (_bundle_zip(_entry(PNG), {"files/media/../../evil.png": PNG}), 400, None),
        # past WhatsApp's 5 MB for an image
        (_carrying(big), 413, None),
        # a PDF declared as a PNG, and bytes WhatsApp does not send
        (_carrying(PDF), 400, "media"),
        (_carrying(EXECUTABLE), 415, None),
        # a file that is not the one its digest names
        (_carrying(image("PNG", (9, 9)), declared=PNG), 400, "media"),
    ]
    for body, status, section in cases:
        r = await import_file(client, h, body, name="bundle.zip")
        assert r.status_code == status, r.text
        if section:
            assert error_code(r) == "INVALID_BUNDLE" and section in r.json()["error"]["message"]
        assert await _counts(runtime, org.id) == (0, 0)
        assert _stored_files(runtime, org.id) == []
    assert not list(runtime.settings.data_dir.rglob("evil*"))


async def test_an_entry_naming_an_intent_the_bundle_lacks_still_imports(client, factory, runtime):
    org = await factory.org()
    r = await import_file(client, org.admin.headers, _carrying(PNG, intents=["Nadie"]), name="bundle.zip")
    assert r.status_code == 201, r.text
    assert await _counts(runtime, org.id) == (1, 1)
    assert json.loads(r.text)["data"]["importNotes"] == []
