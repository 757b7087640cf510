"""/bot-config/export, export-zip and import: the bundle's tiers, never a secret, a round trip into
another organization equal except ids and secrets, atomic validated imports, and hostile files
(oversized, wrong type, newer versions, broken sections, path traversal, symlinks, zip bombs)."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import uuid
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select

from cxinbox.models.bot import BotConfig
from cxinbox.studio.bundle import archive
from tests.fixtures.people import error_code
from tests.fixtures.wait import eventually
from tests.studio.conftest import as_json, import_file, minimal_bundle, set_prompt, zipped

PLANTED = {
    "config": f"sk-PLANTED-config-{uuid.uuid4().hex}",
    "n8n": f"n8n-PLANTED-{uuid.uuid4().hex}",
    "preset": f"sk-PLANTED-preset-{uuid.uuid4().hex}",
    "connection": f"conn-PLANTED-{uuid.uuid4().hex}",
}
FAQ = b"Horario: de nueve a cinco, de lunes a viernes.\n"


async def _build_bot(client, headers: dict[str, str], team: str, tool: str) -> dict[str, Any]:
    """A config with every kind of content a bundle carries (and every kind of secret it must not)."""
    connection = {
        "name": "Pedidos API",
        "baseUrl": "https://api.example.com/v1",
        "authType": "BEARER",
        "secrets": {"token": PLANTED["connection"]},
    }
    r = await client.post("/connections", json=connection, headers=headers)
    assert r.status_code == 201, r.text
    body = {
        "name": tool,
        "description": "Look up an order",
        "parameters": {"type": "object", "properties": {"orderId": {"type": "string"}}},
        "connectionId": r.json()["data"]["id"],
        "path": "/orders/{{params.orderId}}",
    }
    assert (await client.post("/tools", json=body, headers=headers)).status_code == 201
    team_id = (await client.post("/teams", json={"name": team}, headers=headers)).json()["data"]["id"]
    tool_id = next(
        t["id"] for t in (await client.get("/tools", headers=headers)).json()["data"] if t["name"] == tool
    )
    for prompt in ("Eres amable.", "Eres muy amable."):
        await set_prompt(client, headers, prompt)
    config = await set_prompt(
        client,
        headers,
        "Eres el asistente de ENI Networks.",
        apiKey=PLANTED["config"],
        n8nSecret=PLANTED["n8n"],
        categories=[{"name": "Ventas", "description": "Quiere comprar"}],
        temperature=0.3,
    )
    intents = [
        {"name": "Hola", "examples": ["hola", "buenas"], "response": "¡Hola!"},
        {"name": "Pedido", "action": "TOOL", "toolId": tool_id, "response": "Consultando"},
        {"name": "Humano", "action": "HANDOFF", "handoffTeamId": team_id, "isActive": False},
    ]
    for intent in intents:
        assert (await client.post("/bot-config/intents", json=intent, headers=headers)).status_code == 201
    preset = {"name": "Rápido", "provider": "OPENAI", "model": "gpt-4o-mini", "apiKey": PLANTED["preset"]}
    assert (await client.post("/bot-config/presets", json=preset, headers=headers)).status_code == 201
    r = await client.post(
        "/bot-config/documents", files={"file": ("faq.txt", FAQ, "text/plain")}, headers=headers
    )
    assert r.status_code in (200, 201), r.text
    await _ready(client, headers)
    return config


async def _ready(client, headers) -> None:
    async def all_ready() -> bool:
        documents = (await client.get("/bot-config/documents", headers=headers)).json()["data"]
        return bool(documents) and all(d["status"] == "READY" for d in documents)

    await eventually(all_ready, "the documents are indexed")


async def _export(client, headers, tier: str, query: str = "") -> dict[str, Any]:
    r = await client.get(f"/bot-config/export?tier={tier}{query}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"].startswith("attachment;")
    _assert_no_secret(r.content)
    return r.json()


def _assert_no_secret(body: bytes) -> None:
    for name, secret in PLANTED.items():
        assert secret.encode() not in body, f"the {name} secret is in the bundle"


def _comparable(bundle: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bundle.items() if k != "exportedAt"}


async def test_tiers_carry_their_sections_and_never_a_secret(client, factory):
    org = await factory.org()
    h = org.admin.headers
    await _build_bot(client, h, "Soporte", "order_status")
    config = await _export(client, h, "config")
    assert (config["format"], config["version"], config["tier"]) == ("cxinbox.bot-bundle", 1, "config")
    assert set(config["sections"]) == {"config", "intents"}
    settings = config["sections"]["config"]
    assert settings["systemPrompt"] == "Eres el asistente de ENI Networks." and settings["temperature"] == 0.3
    assert settings["categories"] == [{"name": "Ventas", "description": "Quiere comprar"}]
    assert [(i["name"], i["tool"], i["handoffTeam"]) for i in config["sections"]["intents"]] == [
        ("Hola", None, None),
        ("Pedido", "order_status", None),
        ("Humano", None, "Soporte"),
    ]
    standard = await _export(client, h, "standard")
    assert set(standard["sections"]) == {
        "config",
        "intents",
        "promptHistory",
        "presets",
        "knowledge",
        "media",
    }
    assert [v["systemPrompt"] for v in standard["sections"]["promptHistory"]] == [
        "Eres amable.",
        "Eres muy amable.",
        "Eres el asistente de ENI Networks.",
    ]
    assert (
        standard["sections"]["presets"][0]["name"] == "Rápido"
        and "apiKey" not in standard["sections"]["presets"][0]
    )
    [document] = standard["sections"]["knowledge"]["documents"]
    assert (
        document["filename"] == "faq.txt" and "nueve a cinco" in document["text"] and "chunks" not in document
    )
    full = await _export(client, h, "full")
    assert full["sections"]["knowledge"]["documents"][0]["chunks"]
    r = await client.get("/bot-config/export-zip?tier=full", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zipped_bundle:
        members = {name: zipped_bundle.read(name) for name in zipped_bundle.namelist()}
    assert members[f"files/{document['sha256']}"] == FAQ
    for body in members.values():
        _assert_no_secret(body)
    r = await client.get("/bot-config/export-zip?tier=standard", headers=h)
    with zipfile.ZipFile(io.BytesIO(r.content)) as zipped_bundle:
        assert zipped_bundle.namelist() == ["bundle.json"]


async def test_round_trip_into_another_organization_is_equal_except_ids_and_secrets(client, factory, runtime):
    source, target = await factory.org(), await factory.org()
    await _build_bot(client, source.admin.headers, "Soporte", "order_status")
    exported = await _export(client, source.admin.headers, "standard")
    # the target has the same team and tool names (its own ids), and nothing else of the bot
    h = target.admin.headers
    r = await client.post(
        "/connections", json={"name": "Otra", "baseUrl": "https://api.example.org"}, headers=h
    )
    tool = {
        "name": "order_status",
        "description": "Mine",
        "parameters": {"type": "object", "properties": {}},
        "connectionId": r.json()["data"]["id"],
        "path": "/o",
    }
    assert (await client.post("/tools", json=tool, headers=h)).status_code == 201
    assert (await client.post("/teams", json={"name": "Soporte"}, headers=h)).status_code == 201
    r = await import_file(client, h, json.dumps(exported).encode(), query="?activate=true")
    assert r.status_code == 201, r.text
    imported = r.json()["data"]
    assert imported["isActive"] and imported["name"] == "Bot" and imported["apiKey"] is None
    assert imported["hasN8nSecret"] is False
    await _ready(client, h)
    again = await _export(client, h, "standard")
    for name, section in exported["sections"].items():
        assert again["sections"][name] == section, name
    assert _comparable(again) == _comparable(exported)
    intents = (await client.get("/bot-config/intents", headers=h)).json()["data"]
    own_tool = next(t["id"] for t in (await client.get("/tools", headers=h)).json()["data"])
    assert [i["toolId"] for i in intents] == [None, own_tool, None]


async def test_an_import_is_a_draft_unless_asked_and_its_zip_files_are_used(client, factory):
    source, target = await factory.org(), await factory.org()
    await _build_bot(client, source.admin.headers, "Soporte", "order_status")
    r = await client.get("/bot-config/export-zip?tier=full", headers=source.admin.headers)
    h = target.admin.headers
    await set_prompt(client, h, "Ya tengo uno")
    r = await import_file(client, h, r.content, name="bot.zip")
    assert r.status_code == 201, r.text
    draft = r.json()["data"]
    assert draft["name"] == "Bot (draft)" and not draft["isActive"]
    assert (await client.get("/bot-config", headers=h)).json()["data"]["systemPrompt"] == "Ya tengo uno"
    intents = (await client.get(f"/bot-config/intents?botConfigId={draft['id']}", headers=h)).json()["data"]
    assert [(i["name"], i["toolId"], i["handoffTeamId"]) for i in intents][2] == ("Humano", None, None)
    [document] = (await client.get("/bot-config/documents", headers=h)).json()["data"]
    assert document["filename"] == "faq.txt" and document["size"] == len(FAQ)
    # importing the same bundle again does not add the document twice
    r = await client.get("/bot-config/export-zip?tier=full", headers=source.admin.headers)
    assert (await import_file(client, h, r.content, name="bot.zip")).status_code == 201
    assert len((await client.get("/bot-config/documents", headers=h)).json()["data"]) == 1


async def _config_count(runtime, organization_id: str) -> int:
    async with runtime.sessionmaker() as session:
        stmt = select(func.count()).where(BotConfig.organization_id == organization_id)
        return int(await session.scalar(stmt) or 0)


@pytest.mark.parametrize(
    "document, code, section",
    [
        ({"format": "other", "version": 1, "sections": {}}, "INVALID_BUNDLE", None),
        ({**minimal_bundle(), "version": 2}, "BUNDLE_VERSION_UNSUPPORTED", None),
        ({**minimal_bundle(), "version": "1"}, "INVALID_BUNDLE", None),
        ({"format": "cxinbox.bot-bundle", "version": 1, "sections": {}}, "INVALID_BUNDLE", "config"),
        (minimal_bundle(intents=[{"name": "ok"}, {"name": ""}]), "INVALID_BUNDLE", "intents"),
        (minimal_bundle(intents="nope"), "INVALID_BUNDLE", "intents"),
        (minimal_bundle(config={"name": "x", "temperature": 9}), "INVALID_BUNDLE", "config"),
        (minimal_bundle(config={"name": "x", "provider": "LOCAL"}), "INVALID_BUNDLE", "config"),
        (minimal_bundle(promptHistory=[{"number": 1}]), "INVALID_BUNDLE", "promptHistory"),
        (minimal_bundle(knowledge={"documents": [{"filename": "a"}]}), "INVALID_BUNDLE", "knowledge"),
        (minimal_bundle(surprise={}), "INVALID_BUNDLE", "surprise"),
    ],
)
async def test_a_broken_bundle_answers_400_naming_the_section_and_writes_nothing(
    client, factory, runtime, document, code, section
):
    org = await factory.org()
    # a valid intents section first: nothing of it may be written when a later section is broken
    if "intents" not in document.get("sections", {}) and isinstance(document.get("sections"), dict):
        document["sections"].setdefault("intents", [{"name": "Saludo", "response": "Hola"}])
    r = await import_file(client, org.admin.headers, as_json(document))
    assert r.status_code == 400 and error_code(r) == code, r.text
    if section:
        assert section in r.json()["error"]["message"]
    assert await _config_count(runtime, org.id) == 0


async def test_secrets_in_a_bundle_are_never_imported(client, factory, runtime):
    org = await factory.org()
    bundle = minimal_bundle(config={"name": "x", "apiKey": "sk-smuggled", "n8nSecret": "smuggled"})
    r = await import_file(client, org.admin.headers, as_json(bundle))
    assert (
        r.status_code == 201 and r.json()["data"]["apiKey"] is None and not r.json()["data"]["hasN8nSecret"]
    )


async def test_wrong_types_and_sizes(client, factory, monkeypatch):
    org = await factory.org()
    h = org.admin.headers
    r = await import_file(client, h, b"%PDF-1.4 not a bundle", name="x.pdf")
    assert r.status_code == 415 and error_code(r) == "UNSUPPORTED_MEDIA_TYPE"
    r = await client.post("/bot-config/import", json=minimal_bundle(), headers=h)
    assert r.status_code == 415
    r = await import_file(client, h, b"{not json")
    assert r.status_code == 400 and error_code(r) == "INVALID_BUNDLE"
    monkeypatch.setattr(archive, "MAX_JSON_BYTES", 100)
    r = await import_file(client, h, as_json(minimal_bundle(intents=[{"name": "x" * 50}] * 5)))
    assert r.status_code == 413 and error_code(r) == "PAYLOAD_TOO_LARGE"
    monkeypatch.setattr(archive, "MAX_UPLOAD_BYTES", 1000)
    r = await import_file(client, h, b"{" + b" " * 2000 + b"}")
    assert r.status_code == 413
    r = await client.post("/bot-config/import", headers=h, files={"other": ("a.json", b"{}")})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive_file:
        archive_file.writestr("bundle.json", as_json(minimal_bundle()))
        link = zipfile.ZipInfo("files/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive_file.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def _lying_zip() -> bytes:
    """A member whose header claims fewer bytes than it inflates to."""
    data = bytearray(zipped({"bundle.json": as_json(minimal_bundle()), "files/x": b"A" * 5000}))
    # the central directory's uncompressed size of the last member: patch it down to 10
    index = data.rfind(b"PK\x01\x02")
    data[index + 24 : index + 28] = (10).to_bytes(4, "little")
    return bytes(data)


HOSTILE = {
    "traversal": (zipped({"bundle.json": as_json(minimal_bundle()), "../evil.txt": b"x"}), 400),
    "deep traversal": (zipped({"bundle.json": as_json(minimal_bundle()), "files/../../evil": b"x"}), 400),
    "absolute": (zipped({"bundle.json": as_json(minimal_bundle()), "/etc/cron.d/x": b"x"}), 400),
    "backslash": (zipped({"bundle.json": as_json(minimal_bundle()), "files\\..\\x": b"x"}), 400),
    "drive": (zipped({"bundle.json": as_json(minimal_bundle()), "C:/x": b"x"}), 400),
    "symlink": (_symlink_zip(), 400),
    "bomb": (zipped({"bundle.json": as_json(minimal_bundle()), "files/zeros": b"\0" * 5_000_000}), 413),
    "no bundle": (zipped({"files/a": b"x"}), 400),
    "damaged": (b"PK\x03\x04" + b"\0" * 100, 400),
    "lying sizes": (_lying_zip(), 400),
}


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_zips_are_refused(client, factory, runtime, name, tmp_path):
    org = await factory.org()
    body, status_code = HOSTILE[name]
    r = await import_file(client, org.admin.headers, body, name="bundle.zip")
    assert r.status_code == status_code, r.text
    assert r.json()["error"]["code"] in ("INVALID_BUNDLE", "PAYLOAD_TOO_LARGE")
    assert await _config_count(runtime, org.id) == 0
    assert not list(runtime.settings.data_dir.rglob("evil*"))


async def test_zip_caps_on_member_count_and_sizes(client, factory, monkeypatch):
    org = await factory.org()
    h = org.admin.headers
    monkeypatch.setattr(archive, "MAX_MEMBERS", 3)
    many = zipped({"bundle.json": as_json(minimal_bundle()), **{f"files/{i}": b"x" for i in range(3)}})
    assert (await import_file(client, h, many, name="b.zip")).status_code == 413
    monkeypatch.setattr(archive, "MAX_MEMBERS", 100)
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    big = zipped(
        {"bundle.json": as_json(minimal_bundle()), "files/a": bytes(range(256)) * 8}, zipfile.ZIP_STORED
    )
    assert (await import_file(client, h, big, name="b.zip")).status_code == 413
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 10_000)
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 3000)
    total = zipped(
        {"bundle.json": as_json(minimal_bundle()), **{f"files/{i}": bytes(range(256)) * 4 for i in range(3)}},
        zipfile.ZIP_STORED,
    )
    assert (await import_file(client, h, total, name="b.zip")).status_code == 413


async def test_export_of_another_organizations_config_is_not_found(client, factory):
    owner, stranger = await factory.org(), await factory.org()
    config = await set_prompt(client, owner.admin.headers, "Privado")
    for path in ("/bot-config/export", "/bot-config/export-zip"):
        r = await client.get(f"{path}?botConfigId={config['id']}", headers=stranger.admin.headers)
        assert r.status_code == 404 and error_code(r) == "NOT_FOUND" and "Privado" not in r.text
    r = await client.get("/bot-config/export", headers=stranger.admin.headers)
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    r = await client.get("/bot-config/export?tier=everything", headers=owner.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    r = await client.get("/bot-config/export-zip?tier=config", headers=owner.admin.headers)
    assert r.status_code == 400


def _documents(*texts: str) -> dict[str, Any]:
    return {
        "documents": [
            {
                "filename": f"doc{n}.txt",
                "kind": "txt",
                "sha256": hashlib.sha256(t.encode()).hexdigest(),
                "text": t,
            }
            for n, t in enumerate(texts)
        ]
    }


async def test_an_import_uploads_its_documents_together_within_the_plan(client, runtime, factory):
    """The documents are uploaded in one go: the plan's limit (10 on FREE) counts them all before
    any is written, and a text the bundle holds twice, or the organization already has, is added once."""
    target = await factory.org()
    h = target.admin.headers
    r = await client.post("/bot-config/documents", files={"file": ("faq.txt", FAQ, "text/plain")}, headers=h)
    assert r.status_code == 201, r.text
    eleven = minimal_bundle(knowledge=_documents(*(f"Documento {n}" for n in range(10)), FAQ.decode()))
    r = await import_file(client, h, as_json(eleven))  # FAQ is held: ten more make eleven
    assert r.status_code == 402, r.text
    assert len((await client.get("/bot-config/documents", headers=h)).json()["data"]) == 1
    assert await _config_count(runtime, target.id) == 0
    texts = [*(f"Documento {n}" for n in range(8)), "Documento 0", FAQ.decode()]
    r = await import_file(client, h, as_json(minimal_bundle(knowledge=_documents(*texts))))
    assert r.status_code == 201, r.text
    documents = (await client.get("/bot-config/documents?limit=100", headers=h)).json()["data"]
    assert sorted(d["filename"] for d in documents) == sorted(["faq.txt", *(f"doc{n}.txt" for n in range(8))])
