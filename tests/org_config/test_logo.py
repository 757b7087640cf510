from __future__ import annotations

from cxinbox.models.identity import Role
from cxinbox.org_config.logo import MAX_LOGO_BYTES

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _files_path(url: str, public_url: str) -> str:
    """The path of a file URL relative to the test client's base (…/api/v1)."""
    return url.removeprefix(public_url.rstrip("/") + "/api/v1")


async def _upload(client, headers, data, content_type="image/png"):
    return await client.post("/config/logo", files={"logo": ("logo", data, content_type)}, headers=headers)


async def test_upload_is_served_by_url_and_replaced_then_removed(client, factory, runtime):
    org = await factory.org()
    public_url = runtime.settings.public_url
    r = await _upload(client, org.admin.headers, PNG, "application/octet-stream")
    assert r.status_code == 200, r.text
    first_url = r.json()["data"]["companyLogoUrl"]
    assert first_url.startswith(f"{public_url}/api/v1/files/public/logos/{org.id}/")
    served = await client.get(_files_path(first_url, public_url))
    assert served.status_code == 200
    assert served.content == PNG and served.headers["content-type"] == "image/png"
    public = await client.get("/config/branding", params={"clientId": org.organization.slug})
    assert public.json()["data"]["companyLogoUrl"] == first_url

    r = await _upload(client, org.admin.headers, JPEG)
    second_url = r.json()["data"]["companyLogoUrl"]
    assert second_url != first_url and second_url.endswith(".jpg")
    assert (await client.get(_files_path(first_url, public_url))).status_code == 404

    r = await client.delete("/config/logo", headers=org.admin.headers)
    assert r.status_code == 200
    assert r.json()["data"]["companyLogoUrl"] is None
    assert (await client.get(_files_path(second_url, public_url))).status_code == 404


async def test_webp_is_accepted(client, factory):
    org = await factory.org()
    r = await _upload(client, org.admin.headers, WEBP, "image/webp")
    assert r.status_code == 200 and r.json()["data"]["companyLogoUrl"].endswith(".webp")


async def test_type_is_checked_by_content(client, factory):
    org = await factory.org()
    for data in (b"just some text pretending", SVG):
        r = await _upload(client, org.admin.headers, data, "image/png")
        assert r.status_code == 415, data
        assert r.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_too_large(client, factory):
    org = await factory.org()
    r = await _upload(client, org.admin.headers, PNG + b"\x00" * MAX_LOGO_BYTES)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_missing_file_is_a_validation_error(client, factory):
    org = await factory.org()
    r = await client.post("/config/logo", files={"other": ("x", PNG, "image/png")}, headers=org.admin.headers)
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "logo"


async def test_access(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    assert (await _upload(client, {}, PNG)).status_code == 401
    assert (await _upload(client, agent.headers, PNG)).status_code == 403
    assert (await client.delete("/config/logo")).status_code == 401
    assert (await client.delete("/config/logo", headers=agent.headers)).status_code == 403


async def test_one_organizations_logo_is_not_anothers(client, factory):
    org, other = await factory.org(), await factory.org()
    await _upload(client, org.admin.headers, PNG)
    r = await client.delete("/config/logo", headers=other.admin.headers)
    assert r.status_code == 200
    mine = await client.get("/config/my-branding", headers=org.admin.headers)
    assert mine.json()["data"]["companyLogoUrl"] is not None
