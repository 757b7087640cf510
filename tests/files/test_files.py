"""Serving stored files: a private key is never reachable through the public prefix, whatever the
spelling of the path; what a customer sent is never run by the browser on this origin; and the
storage itself refuses keys outside its root."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import urlsplit

import pytest

from cxinbox.adapters.storage import LocalDiskStorage
from cxinbox.files.service import file_url

SECRET = b"a customer's private document"


@pytest.fixture
async def private_key(runtime) -> str:
    key = f"whatsapp-media/{uuid.uuid4().hex}/{uuid.uuid4().hex}/secret.txt"
    await runtime.storage.save(key, SECRET, "text/plain")
    await runtime.storage.save("public/avatars/open.png", b"\x89PNG open", "image/png")
    return key


async def raw_get(base_url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` byte for byte (an HTTP client would normalise ``..`` away before sending)."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(f"GET {url.path}{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize(
    "path",
    [
        "/files/public/../{key}",
        "/files/public/%2e%2e/{key}",
        "/files/public/%2E%2E/{key}",
        "/files/public/.%2e/{key}",
        "/files/public%2f..%2f{key}",
        "/files/public/..%2F{key}",
        "/files/public/./../{key}",
        "/files/public/avatars/../../{key}",
        "/files/public%5c..%5c{key}",
        "/files/public/..%5c{key}",
    ],
)
async def test_a_private_file_is_not_served_through_the_public_prefix(live_server, private_key, path):
    status, body = await raw_get(live_server, path.format(key=private_key))
    assert SECRET not in body
    assert (status, json.loads(body)["error"]["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    "path",
    [
        "/files/public//avatars/open.png",
        "/files/public/./avatars/open.png",
    ],
)
async def test_keys_that_are_not_plain_paths_name_no_file(live_server, private_key, path):
    status, body = await raw_get(live_server, path)
    assert (status, json.loads(body)["error"]["code"]) == (404, "NOT_FOUND")
    assert (await raw_get(live_server, "/files/public/avatars/open.png"))[0] == 200


async def test_a_key_with_a_control_character_is_refused_before_any_lookup(live_server, private_key):
    status, body = await raw_get(live_server, "/files/public/avatars/open.png%00")
    assert (status, json.loads(body)["error"]["code"]) == (400, "VALIDATION_ERROR")


async def test_the_signed_url_still_serves_the_private_file(client, runtime, private_key):
    url = urlsplit(file_url(runtime, private_key))
    r = await client.get(url.path.removeprefix("/api/v1") + "?" + url.query)
    assert r.status_code == 200 and r.content == SECRET
    assert (await client.get(url.path.removeprefix("/api/v1"))).status_code == 404


async def served(client, runtime, content_type: str, name: str = "file.bin"):
    key = f"whatsapp-media/{uuid.uuid4().hex}/{uuid.uuid4().hex}/{name}"
    await runtime.storage.save(key, b"<html><script>alert(document.cookie)</script></html>", content_type)
    url = urlsplit(file_url(runtime, key))
    r = await client.get(url.path.removeprefix("/api/v1") + "?" + url.query)
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == "sandbox"
    assert r.headers["x-content-type-options"] == "nosniff"
    return r


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "text/html; charset=utf-8",
        "TEXT/HTML",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        "application/javascript",
        "multipart/x-mixed-replace",
        "image/png, text/html",
        "",
    ],
)
async def test_active_content_is_a_download_of_opaque_bytes(client, runtime, content_type):
    r = await served(client, runtime, content_type, name="page.html")
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert 'filename="page.html"' in r.headers["content-disposition"]


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "audio/ogg; codecs=opus", "video/mp4"])
async def test_images_audio_and_video_are_shown_inline(client, runtime, content_type):
    r = await served(client, runtime, content_type)
    assert r.headers["content-type"] == content_type.split(";")[0]
    assert "content-disposition" not in r.headers


@pytest.mark.parametrize(
    "content_type",
    [
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain",
    ],
)
async def test_documents_are_downloads_with_their_type(client, runtime, content_type):
    r = await served(client, runtime, content_type, name='Factura \u00e9"x".pdf')
    assert r.headers["content-type"].split(";")[0] == content_type
    disposition = r.headers["content-disposition"]
    assert (
        disposition.startswith("attachment;")
        and "filename*=UTF-8''Factura%20%C3%A9%22x%22.pdf" in disposition
    )


@pytest.mark.parametrize("key", ["../outside.txt", "a/../../outside.txt", "/etc/passwd", "", "."])
async def test_the_storage_refuses_keys_outside_its_root(tmp_path, key):
    storage = LocalDiskStorage(tmp_path / "root")
    (tmp_path / "outside.txt").write_text("outside")
    with pytest.raises(ValueError):
        await storage.read(key)
    with pytest.raises(ValueError):
        await storage.save(key, b"x", "text/plain")
    assert (tmp_path / "outside.txt").read_text() == "outside"
