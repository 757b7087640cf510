"""/bot-config/media*: files the bot can send, recognised by their bytes within WhatsApp's limits,
their metadata, previews (images; videos when ffmpeg is present), serving by token or signed URL,
hostile files, roles and other organizations' ids."""

from __future__ import annotations

import io
import os
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.fixtures.audit import audit_entries
from tests.fixtures.errors import bad_fields, error_of
from tests.knowledge.media import MP4, OGG, PDF, image, jpeg_with_exif, png_bomb, upload_media, uploaded


@pytest.fixture
async def org(factory):
    return await factory.org()


def signed_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path.removeprefix("/api/v1") + "?" + parts.query


async def test_an_image_is_stored_previewed_without_its_metadata_and_served(client, runtime, org):
    original = jpeg_with_exif("SecretCam GPS")
    media = await uploaded(
        client,
        org.admin,
        "tienda.jpg",
        original,
        "application/octet-stream",
        name="Mapa de la tienda",
        description="Send when the customer asks where the shop is",
        tags="ubicacion, tienda",
    )
    assert (media["type"], media["mimeType"], media["size"], media["hasThumbnail"]) == (
        "IMAGE",
        "image/jpeg",
        len(original),
        True,
    )
    assert (media["name"], media["tags"], media["filename"]) == (
        "Mapa de la tienda",
        ["ubicacion", "tienda"],
        "tienda.jpg",
    )
    assert media["description"] == "Send when the customer asks where the shop is"
    r = await client.get(f"/bot-config/media/{media['id']}/file", headers=org.admin.headers)
    assert r.status_code == 200 and r.content == original and r.headers["content-type"] == "image/jpeg"
    r = await client.get(f"/bot-config/media/{media['id']}/thumbnail", headers=org.admin.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    preview = Image.open(io.BytesIO(r.content))
    assert max(preview.size) == 320 and not preview.getexif() and b"SecretCam" not in r.content
    # without a token: 401; by the signed URLs of the listing: the bytes
    error_of(await client.get(f"/bot-config/media/{media['id']}/file"), 401, "UNAUTHORIZED")
    assert (await client.get(signed_path(media["url"]))).content == original
    assert (await client.get(signed_path(media["thumbnailUrl"]))).content == r.content
    tampered = signed_path(media["url"]).replace("signature=", "signature=0")
    error_of(await client.get(tampered), 404, "NOT_FOUND")
    entries = await audit_entries(runtime, org.id, "bot_media.created")
    assert [e.target_id for e in entries] == [media["id"]]


async def test_types_come_from_the_bytes_not_the_declared_type(client, org):
    media = await uploaded(client, org.admin, "catalogo.png", PDF, "image/png")
    assert (media["type"], media["mimeType"], media["hasThumbnail"], media["thumbnailUrl"]) == (
        "DOCUMENT",
        "application/pdf",
        False,
        None,
    )
    assert (await uploaded(client, org.admin, "a.bin", OGG, "text/html"))["type"] == "AUDIO"
    png = await uploaded(client, org.admin, "x.pdf", image(), "application/pdf")
    assert (png["type"], png["mimeType"]) == ("IMAGE", "image/png")
    error_of(
        await client.get(f"/bot-config/media/{media['id']}/thumbnail", headers=org.admin.headers),
        404,
        "THUMBNAIL_NOT_AVAILABLE",
    )
    r = await client.get(f"/bot-config/media/{media['id']}/file", headers=org.admin.headers)
    assert r.headers["content-type"] == "application/pdf" and r.headers["content-disposition"].startswith(
        "attachment"
    )


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (b"<html><script>alert(1)</script></html>", "image/jpeg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/svg+xml"),
        (image("GIF"), "image/gif"),  # WhatsApp sends no GIF images
        (image("WEBP"), "image/webp"),  # a sticker, not an image the bot sends
        (b"MZ\x90\x00" + b"\x00" * 100, "application/pdf"),
        (b"", "image/png"),
    ],
)
async def test_what_whatsapp_does_not_send_is_415(client, org, data, declared):
    error_of(await upload_media(client, org.admin, "f", data, declared), 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_hostile_images_fail_cleanly(client, runtime, org):
    error_of(
        await upload_media(client, org.admin, "bomb.png", png_bomb(), "image/png"), 415, "UNREADABLE_IMAGE"
    )
    broken = image()[:200]
    error_of(
        await upload_media(client, org.admin, "broken.png", broken, "image/png"), 415, "UNREADABLE_IMAGE"
    )
    garbage = b"\xff\xd8\xff" + os.urandom(5000)
    error_of(
        await upload_media(client, org.admin, "noise.jpg", garbage, "image/jpeg"), 415, "UNREADABLE_IMAGE"
    )
    assert (await client.get("/bot-config/media", headers=org.admin.headers)).json()["data"] == []


async def test_whatsapps_size_limits_are_413(client, org):
    big_image = b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024)
    error_of(
        await upload_media(client, org.admin, "big.png", big_image, "image/png"), 413, "PAYLOAD_TOO_LARGE"
    )
    big_audio = OGG + b"\x00" * (16 * 1024 * 1024)
    error_of(
        await upload_media(client, org.admin, "big.ogg", big_audio, "audio/ogg"), 413, "PAYLOAD_TOO_LARGE"
    )


async def test_a_video_is_previewed_only_where_ffmpeg_is(client, org, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg here
    plain = await uploaded(client, org.admin, "demo.mp4", MP4, "video/mp4")
    assert (plain["type"], plain["mimeType"], plain["hasThumbnail"]) == ("VIDEO", "video/mp4", False)
    error_of(
        await client.get(f"/bot-config/media/{plain['id']}/thumbnail", headers=org.admin.headers),
        404,
        "THUMBNAIL_NOT_AVAILABLE",
    )
    frame = tmp_path / "frame.jpg"
    frame.write_bytes(image("JPEG", size=(1280, 720)))
    ffmpeg = tmp_path / "ffmpeg"
    ffmpeg.write_text(
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = "-frames:v" ] && exec /bin/cat {frame}; done\nexit 1\n'
    )
    ffmpeg.chmod(0o755)
    previewed = await uploaded(client, org.admin, "demo.mp4", MP4, "video/mp4")
    assert previewed["hasThumbnail"] is True
    r = await client.get(f"/bot-config/media/{previewed['id']}/thumbnail", headers=org.admin.headers)
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (320, 180)


async def test_metadata_is_edited_and_media_deleted(client, runtime, org):
    media = await uploaded(client, org.admin, "a.pdf", PDF, "application/pdf")
    url = f"/bot-config/media/{media['id']}"
    r = await client.patch(
        url, json={"description": "Send with prices", "tags": ["precios"]}, headers=org.admin.headers
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["name"], data["description"], data["tags"]) == ("a.pdf", "Send with prices", ["precios"])
    assert bad_fields(await client.patch(url, json={"name": "  "}, headers=org.admin.headers)) == {"name"}
    assert bad_fields(await client.patch(url, json={"tags": ["x"] * 21}, headers=org.admin.headers)) == {
        "tags"
    }
    error_of(
        await upload_media(client, org.admin, "b.pdf", PDF, "application/pdf", tags=",".join(["t"] * 21)),
        400,
        "VALIDATION_ERROR",
    )
    r = await client.get("/bot-config/media", headers=org.admin.headers)
    assert [m["id"] for m in r.json()["data"]] == [media["id"]]
    stored = signed_path(media["url"])
    assert (await client.delete(url, headers=org.admin.headers)).status_code == 200
    error_of(await client.get(f"{url}/file", headers=org.admin.headers), 404, "NOT_FOUND")
    error_of(await client.get(stored), 404, "NOT_FOUND")
    assert [e.target_id for e in await audit_entries(runtime, org.id, "bot_media.deleted")] == [media["id"]]


async def test_roles_and_another_organizations_ids(client, factory, org):
    from cxinbox.models.identity import Role

    media = await uploaded(client, org.admin, "a.pdf", PDF, "application/pdf")
    url = f"/bot-config/media/{media['id']}"
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.get("/bot-config/media", headers=supervisor.headers)).status_code == 200
    assert (await client.get(f"{url}/file", headers=supervisor.headers)).status_code == 200
    for member in (supervisor, agent):
        error_of(await upload_media(client, member, "a.pdf", PDF, "application/pdf"), 403, "FORBIDDEN")
        error_of(await client.patch(url, json={"name": "x"}, headers=member.headers), 403, "FORBIDDEN")
        error_of(await client.delete(url, headers=member.headers), 403, "FORBIDDEN")
    error_of(await client.get("/bot-config/media", headers=agent.headers), 403, "FORBIDDEN")
    error_of(await client.get(f"{url}/thumbnail", headers=agent.headers), 403, "FORBIDDEN")
    error_of(await client.get("/bot-config/media"), 401, "UNAUTHORIZED")
    error_of(await client.post("/bot-config/media", files={"file": ("a.pdf", PDF)}), 401, "UNAUTHORIZED")
    other = await factory.org()
    theirs = other.admin.headers
    assert (await client.get("/bot-config/media", headers=theirs)).json()["data"] == []
    for response in (
        await client.patch(url, json={"name": "x"}, headers=theirs),
        await client.delete(url, headers=theirs),
        await client.get(f"{url}/file", headers=theirs),
        await client.get(f"{url}/thumbnail", headers=theirs),
    ):
        error_of(response, 404, "NOT_FOUND")
    assert bad_fields(
        await client.post("/bot-config/media", data={"name": "x"}, headers=org.admin.headers)
    ) == {"file"}
