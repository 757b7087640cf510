"""Branding. /config has no ids of its own: the organization is the caller's, and the tests show that
one organization's settings never reach another; public branding's unknown clientId answers 404."""

from __future__ import annotations

from cxinbox.models.identity import Role


async def test_public_branding_by_slug_or_id(client, factory):
    org = await factory.org()
    await client.put(
        "/config/branding",
        json={"companyName": "Acme Support", "whatsappPhone": "+44 20 7946 0000", "primaryColor": "#112233"},
        headers=org.admin.headers,
    )
    for client_id in (org.organization.slug, org.id):
        r = await client.get("/config/branding", params={"clientId": client_id})
        assert r.status_code == 200, r.text
        assert r.json()["data"] == {
            "organizationId": org.id,
            "clientId": org.organization.slug,
            "companyName": "Acme Support",
            "companyLogoUrl": None,
            "whatsappPhone": "+44 20 7946 0000",
            "primaryColor": "#112233",
        }


async def test_public_branding_without_client_id_is_the_platforms(client):
    r = await client.get("/config/branding")
    assert r.status_code == 200
    assert r.json()["data"]["companyName"] == "CX Inbox" and r.json()["data"]["organizationId"] is None


async def test_public_branding_unknown_client_and_validation(client):
    assert (await client.get("/config/branding", params={"clientId": "no-such-org-x"})).status_code == 404
    r = await client.get("/config/branding", params={"clientId": "x" * 101})
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_my_branding_defaults_to_the_organization_name(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.get("/config/my-branding", headers=agent.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["companyName"] == org.organization.name


async def test_my_branding_access(client, factory):
    assert (await client.get("/config/my-branding")).status_code == 401
    super_admin = await factory.super_admin()
    assert (await client.get("/config/my-branding", headers=super_admin.headers)).status_code == 403


async def test_update_branding_is_the_organizations_own(client, factory, runtime):
    org, other = await factory.org(), await factory.org()
    r = await client.put(
        "/config/branding",
        json={"companyLogoUrl": "https://cdn.example.com/logo.png"},
        headers=org.admin.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["companyLogoUrl"] == "https://cdn.example.com/logo.png"
    mine = await client.get("/config/my-branding", headers=org.admin.headers)
    assert mine.json()["data"]["companyLogoUrl"] == "https://cdn.example.com/logo.png"
    theirs = await client.get("/config/my-branding", headers=other.admin.headers)
    assert theirs.json()["data"]["companyLogoUrl"] is None

    r = await client.put(
        "/config/branding", json={"companyLogoUrl": None, "companyName": ""}, headers=org.admin.headers
    )
    assert r.json()["data"]["companyLogoUrl"] is None
    assert r.json()["data"]["companyName"] == org.organization.name


async def test_update_branding_validation(client, factory):
    org = await factory.org()
    for body in (
        {"companyLogoUrl": "javascript:alert(1)"},
        {"primaryColor": "red"},
        {"whatsappPhone": "call me"},
        {"companyName": "x" * 201},
    ):
        r = await client.put("/config/branding", json=body, headers=org.admin.headers)
        assert r.status_code == 400, body
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_update_branding_access(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.put("/config/branding", json={"companyName": "X"})).status_code == 401
    r = await client.put("/config/branding", json={"companyName": "X"}, headers=agent.headers)
    assert r.status_code == 403
