from urllib.parse import urlsplit

from cxinbox.models.identity import Role
from cxinbox.profile.service import MAX_AVATAR_BYTES
from tests.fixtures.factories import PASSWORD
from tests.fixtures.people import api_key_headers, error_code, events_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


def _path(url: str) -> str:
    """The absolute file URL as a path for the in-process client (its base is /api/v1)."""
    return urlsplit(url).path.removeprefix("/api/v1")


async def test_get_profile(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.get("/profile", headers=agent.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["id"], data["email"], data["role"], data["hasPassword"]) == (
        agent.id,
        agent.email,
        "AGENT",
        True,
    )
    assert (await client.get("/profile")).status_code == 401
    assert (await client.get("/profile", headers=await api_key_headers(client, org))).status_code == 403


async def test_rename(client, factory, runtime):
    org = await factory.org()
    r = await client.patch("/profile", json={"name": "  Ana Admin "}, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["name"] == "Ana Admin"
    assert (await events_of(runtime, org.id, "user.updated"))[-1]["name"] == "Ana Admin"
    r = await client.patch("/profile", json={"name": ""}, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert (await client.patch("/profile", json={"name": "X"})).status_code == 401
    robot = await api_key_headers(client, org)
    assert (await client.patch("/profile", json={"name": "X"}, headers=robot)).status_code == 403


async def test_avatar_is_recognised_by_its_bytes_and_served(client, factory):
    org = await factory.org()
    files = {"avatar": ("notes.txt", PNG, "text/plain")}
    r = await client.post("/profile/avatar", files=files, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    url = r.json()["data"]["avatarUrl"]
    assert url.startswith("http://cxinbox.test/api/v1/files/public/avatars/") and url.endswith(".png")
    served = await client.get(_path(url))
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"

    r = await client.post(
        "/profile/avatar",
        files={"avatar": ("a.bin", WEBP, "application/octet-stream")},
        headers=org.admin.headers,
    )
    replaced = r.json()["data"]["avatarUrl"]
    assert replaced != url and (await client.get(_path(replaced))).headers["content-type"] == "image/webp"
    assert (await client.get(_path(url))).status_code == 404  # the previous picture is gone

    r = await client.delete("/profile/avatar", headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["avatarUrl"] is None
    assert (await client.get(_path(replaced))).status_code == 404


async def test_avatar_rejections(client, factory):
    org = await factory.org()
    fake = {"avatar": ("photo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png")}
    r = await client.post("/profile/avatar", files=fake, headers=org.admin.headers)
    assert r.status_code == 415 and error_code(r) == "UNSUPPORTED_MEDIA_TYPE"
    huge = {"avatar": ("big.png", PNG + b"\x00" * MAX_AVATAR_BYTES, "image/png")}
    r = await client.post("/profile/avatar", files=huge, headers=org.admin.headers)
    assert r.status_code == 413 and error_code(r) == "PAYLOAD_TOO_LARGE"
    r = await client.post(
        "/profile/avatar", files={"other": ("a.png", PNG, "image/png")}, headers=org.admin.headers
    )
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    png = {"avatar": ("a.png", PNG, "image/png")}
    assert (await client.post("/profile/avatar", files=png)).status_code == 401
    robot = await api_key_headers(client, org)
    assert (await client.post("/profile/avatar", files=png, headers=robot)).status_code == 403
    assert (await client.delete("/profile/avatar")).status_code == 401
    assert (await client.delete("/profile/avatar", headers=robot)).status_code == 403


async def test_change_password(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    body = {"currentPassword": PASSWORD, "newPassword": "another-good-password"}
    r = await client.post("/profile/change-password", json=body, headers=agent.headers)
    assert r.status_code == 200, r.text
    fresh = r.json()["data"]
    assert fresh["user"]["id"] == agent.id and fresh["refreshToken"] != agent.refresh_token
    assert (await client.post("/auth/refresh", json={"refreshToken": agent.refresh_token})).status_code == 401
    assert (
        await client.post("/auth/refresh", json={"refreshToken": fresh["refreshToken"]})
    ).status_code == 200
    login = {"email": agent.email, "password": "another-good-password"}
    assert (await client.post("/auth/login", json=login)).status_code == 200
    old = {"email": agent.email, "password": PASSWORD}
    assert (await client.post("/auth/login", json=old)).status_code == 401


async def test_change_password_rejections(client, factory):
    org = await factory.org()
    wrong = {"currentPassword": "not-the-password", "newPassword": "another-good-password"}
    r = await client.post("/profile/change-password", json=wrong, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "INVALID_PASSWORD"
    short = {"currentPassword": PASSWORD, "newPassword": "short"}
    r = await client.post("/profile/change-password", json=short, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    good = {"currentPassword": PASSWORD, "newPassword": "another-good-password"}
    assert (await client.post("/profile/change-password", json=good)).status_code == 401
    robot = await api_key_headers(client, org)
    assert (await client.post("/profile/change-password", json=good, headers=robot)).status_code == 403
    # the refused attempts changed nothing
    r = await client.post("/auth/refresh", json={"refreshToken": org.admin.refresh_token})
    assert r.status_code == 200


async def test_choose_language(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.get("/profile", headers=agent.headers)).json()["data"]["language"] is None
    r = await client.patch("/profile/language", json={"language": "es"}, headers=agent.headers)
    assert r.status_code == 200 and r.json()["data"]["language"] == "es", r.text
    assert (await client.get("/profile", headers=agent.headers)).json()["data"]["language"] == "es"
    assert (await events_of(runtime, org.id, "user.updated"))[-1]["language"] == "es"
    for bad in ({"language": "fr"}, {"language": "<script>"}, {}):
        r = await client.patch("/profile/language", json=bad, headers=agent.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", bad
    r = await client.patch("/profile/language", json={"language": None}, headers=agent.headers)
    assert r.status_code == 200 and r.json()["data"]["language"] is None
    assert (await client.patch("/profile/language", json={"language": "es"})).status_code == 401
    key = await api_key_headers(client, org)
    assert (await client.patch("/profile/language", json={"language": "es"}, headers=key)).status_code == 403
