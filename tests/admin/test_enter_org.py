"""What enter-org tokens reach: that organization as its ADMIN (never another one), and /admin
still, because their holder is the super admin."""

from __future__ import annotations

import jwt

from tests.fixtures.audit import audit_entries


async def _enter(client, super_admin, org_id):
    r = await client.post(f"/admin/enter-org/{org_id}", headers=super_admin.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    return data, {"Authorization": f"Bearer {data['accessToken']}"}


async def test_tokens_act_inside_the_organization_marked_as_impersonation(
    client, factory, runtime, super_admin
):
    org = await factory.org()
    data, headers = await _enter(client, super_admin, org.id)
    assert data["organization"]["id"] == org.id and data["impersonating"] is True
    assert data["user"] == {
        "id": super_admin.id,
        "email": super_admin.email,
        "name": super_admin.user.name,
        "role": "SUPER_ADMIN",
        "organizationId": org.id,
    }
    claims = jwt.decode(data["accessToken"], options={"verify_signature": False})
    assert claims["org"] == org.id and claims["imp"] == super_admin.id

    me = (await client.get("/auth/me", headers=headers)).json()["data"]
    assert me["organizationId"] == org.id and me["impersonatedBy"] == super_admin.id

    [entry] = await audit_entries(runtime, org.id, "admin.enter_org")
    assert entry.actor_user_id == super_admin.id and entry.target_id == org.id and entry.ip


async def test_reaches_the_organizations_admin_endpoints(client, factory, super_admin):
    org = await factory.org()
    await client.post("/api-keys", json={"name": "theirs"}, headers=org.admin.headers)
    _, headers = await _enter(client, super_admin, org.id)
    keys = await client.get("/api-keys", headers=headers)
    assert keys.status_code == 200
    assert [k["name"] for k in keys.json()["data"]] == ["theirs"]
    assert (await client.get("/plan/usage", headers=headers)).status_code == 200
    r = await client.put("/config/bot-enabled", json={"enabled": True}, headers=headers)
    assert r.status_code == 200
    assert (await client.get("/config/bot-enabled", headers=org.admin.headers)).json()["data"][
        "enabled"
    ] is True


async def test_cannot_reach_another_organizations_resources(client, factory, super_admin):
    org, other = await factory.org(), await factory.org()
    other_key = (await client.post("/api-keys", json={"name": "other"}, headers=other.admin.headers)).json()[
        "data"
    ]
    _, headers = await _enter(client, super_admin, org.id)
    assert (await client.get("/api-keys", headers=headers)).json()["data"] == []
    r = await client.patch(f"/api-keys/{other_key['id']}", json={"name": "stolen"}, headers=headers)
    assert r.status_code == 404
    assert (await client.delete(f"/api-keys/{other_key['id']}", headers=headers)).status_code == 404


async def test_admin_endpoints_stay_open_to_the_super_admin(client, factory, super_admin):
    org = await factory.org()
    _, headers = await _enter(client, super_admin, org.id)
    assert (await client.get("/admin/stats", headers=headers)).status_code == 200


async def test_a_suspended_organization_can_be_entered(client, factory, super_admin):
    org = await factory.org()
    await client.patch(
        f"/admin/organizations/{org.id}", json={"status": "SUSPENDED"}, headers=super_admin.headers
    )
    _, headers = await _enter(client, super_admin, org.id)
    assert (await client.get("/api-keys", headers=headers)).status_code == 200


async def test_enter_org_refresh_keeps_the_organization(client, factory, super_admin):
    org = await factory.org()
    data, _ = await _enter(client, super_admin, org.id)
    r = await client.post("/auth/refresh", json={"refreshToken": data["refreshToken"]})
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["data"]["accessToken"], options={"verify_signature": False})
    assert claims["org"] == org.id and claims["imp"] == super_admin.id
