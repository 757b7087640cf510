from tests.fixtures.factories import unique_email


async def test_register_then_me(client):
    r = await client.post(
        "/auth/register",
        json={"companyName": "Acme", "name": "Ann", "email": unique_email("ann"), "password": "secret123"},
    )
    assert r.status_code == 201, r.text
    token = r.json()["data"]["accessToken"]
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["data"]["organization"]["slug"].startswith("acme")


async def test_code_by_mail(client, factory, smtp):
    org = await factory.org()
    r = await client.post("/auth/request-code", json={"email": org.admin.email})
    assert r.status_code == 200
    code = await smtp.latest_code(org.admin.email)
    r = await client.post("/auth/verify-code", json={"email": org.admin.email, "code": code})
    assert r.status_code == 200, r.text
