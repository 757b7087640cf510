from __future__ import annotations

import uuid

from cxinbox.models.identity import Plan, Role
from tests.fixtures.audit import audit_entries
from tests.fixtures.factories import unique_email
from tests.fixtures.people import invite_token


def _word() -> str:
    return uuid.uuid4().hex[:10]


async def _named_org(client, super_admin, name: str, **extra):
    body = {"name": name, "adminEmail": unique_email("owner"), "adminName": "Owner", **extra}
    r = await client.post("/admin/organizations", json=body, headers=super_admin.headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def test_stats(client, factory, super_admin):
    await factory.org(plan=Plan.STARTER)
    r = await client.get("/admin/stats", headers=super_admin.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["organizations"]["total"] >= 1
    assert data["organizations"]["byPlan"]["STARTER"] >= 1
    assert data["organizations"]["byStatus"]["ACTIVE"] >= 1
    assert data["users"]["byRole"]["ADMIN"] >= 1
    assert set(data) >= {"organizationsCreatedLast30Days", "activeUsers", "apiKeys"}


async def test_list_filters_sorts_and_pages(client, super_admin):
    word = _word()
    a = await _named_org(client, super_admin, f"Alpha {word}", plan="STARTER")
    b = await _named_org(client, super_admin, f"Beta {word}")
    c = await _named_org(client, super_admin, f"Gamma {word}", plan="STARTER")
    h = super_admin.headers

    r = await client.get(
        "/admin/organizations", params={"search": word, "sortBy": "name", "sortOrder": "asc"}, headers=h
    )
    assert r.status_code == 200, r.text
    assert [o["id"] for o in r.json()["data"]] == [a["id"], b["id"], c["id"]]
    assert r.json()["meta"] == {"page": 1, "limit": 20, "total": 3, "totalPages": 1}
    assert r.json()["data"][0]["userCount"] == 1

    r = await client.get("/admin/organizations", params={"search": word, "plan": "STARTER"}, headers=h)
    assert [o["id"] for o in r.json()["data"]] == [c["id"], a["id"]]  # createdAt desc by default

    r = await client.get(
        "/admin/organizations",
        params={"search": word, "sortBy": "name", "sortOrder": "desc", "page": 2, "limit": 2},
        headers=h,
    )
    assert [o["id"] for o in r.json()["data"]] == [a["id"]]
    assert r.json()["meta"] == {"page": 2, "limit": 2, "total": 3, "totalPages": 2}

    await client.patch(f"/admin/organizations/{b['id']}", json={"status": "SUSPENDED"}, headers=h)
    r = await client.get("/admin/organizations", params={"search": word, "status": "SUSPENDED"}, headers=h)
    assert [o["id"] for o in r.json()["data"]] == [b["id"]]


async def test_list_validation(client, super_admin):
    for params in (
        {"plan": "GOLD"},
        {"status": "GONE"},
        {"sortBy": "password"},
        {"sortOrder": "up"},
        {"limit": 0},
    ):
        r = await client.get("/admin/organizations", params=params, headers=super_admin.headers)
        assert r.status_code == 400, params
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_create_invites_the_first_admin_who_accepts(client, runtime, super_admin, smtp):
    email = unique_email("first-admin")
    slug = f"acme-{_word()}"
    r = await client.post(
        "/admin/organizations",
        json={
            "name": "Acme",
            "slug": slug,
            "adminEmail": email.upper(),
            "adminName": "Ada",
            "plan": "PROFESSIONAL",
        },
        headers=super_admin.headers,
    )
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["slug"] == slug and data["plan"] == "PROFESSIONAL" and data["status"] == "ACTIVE"
    assert data["admin"]["email"] == email and data["admin"]["role"] == "ADMIN"
    assert data["admin"]["hasPassword"] is False and data["admin"]["isActive"] is True

    token = await invite_token(smtp, email)
    accepted = await client.post(
        f"/invitations/accept/{token}", json={"name": "Ada L.", "password": "s3cret-pass"}
    )
    assert accepted.status_code == 200, accepted.text
    user = accepted.json()["data"]["user"]
    assert (
        user["organizationId"] == data["id"] and user["role"] == "ADMIN" and user["id"] == data["admin"]["id"]
    )
    login = await client.post("/auth/login", json={"email": email, "password": "s3cret-pass"})
    assert login.status_code == 200, login.text

    [entry] = await audit_entries(runtime, data["id"], "admin.organization_created")
    assert entry.actor_user_id == super_admin.id and entry.target_id == data["id"] and entry.ip


async def test_create_derives_a_slug(client, super_admin):
    data = await _named_org(client, super_admin, f"Née Société {_word()}")
    assert data["slug"].startswith("nee-societe-")


async def test_create_validation_and_conflicts(client, factory, super_admin):
    h = super_admin.headers
    for body in (
        {"name": "X", "adminEmail": "not-an-email", "adminName": "X"},
        {"name": "", "adminEmail": unique_email(), "adminName": "X"},
        {"name": "X", "slug": "Bad Slug!", "adminEmail": unique_email(), "adminName": "X"},
        {"name": "X", "adminEmail": unique_email()},
    ):
        r = await client.post("/admin/organizations", json=body, headers=h)
        assert r.status_code == 400, body
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    org = await factory.org()
    taken_slug = {"name": "X", "slug": org.organization.slug, "adminEmail": unique_email(), "adminName": "X"}
    assert (await client.post("/admin/organizations", json=taken_slug, headers=h)).status_code == 409
    taken_email = {"name": "X", "adminEmail": org.admin.email, "adminName": "X"}
    r = await client.post("/admin/organizations", json=taken_email, headers=h)
    assert r.status_code == 409
    assert r.json()["error"]["details"][0]["field"] == "adminEmail"


async def test_detail_with_counts_and_usage(client, factory, super_admin):
    org = await factory.org()
    await factory.member(org.id, Role.AGENT)
    await client.post("/api-keys", json={"name": "k"}, headers=org.admin.headers)
    r = await client.get(f"/admin/organizations/{org.id}", headers=super_admin.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["counts"] == {
        "users": 2,
        "activeUsers": 2,
        "usersByRole": {"ADMIN": 1, "AGENT": 1},
        "apiKeys": 1,
        "teams": 0,
    }
    assert data["usage"]["seats"]["limit"] == 2


async def test_unknown_organization_is_404(client, super_admin):
    h = super_admin.headers
    missing = "00000000-0000-7000-8000-000000000000"
    assert (await client.get(f"/admin/organizations/{missing}", headers=h)).status_code == 404
    assert (
        await client.patch(f"/admin/organizations/{missing}", json={"plan": "FREE"}, headers=h)
    ).status_code == 404
    assert (await client.get(f"/admin/organizations/{missing}/users", headers=h)).status_code == 404
    r = await client.post(f"/admin/organizations/{missing}/resend-invite", json={"userId": "x"}, headers=h)
    assert r.status_code == 404
    assert (await client.post(f"/admin/enter-org/{missing}", headers=h)).status_code == 404


async def test_update_plan_status_and_limits(client, factory, runtime, super_admin):
    org = await factory.org()
    r = await client.patch(
        f"/admin/organizations/{org.id}",
        json={"plan": "STARTER", "name": "Renamed", "limitOverrides": {"seats": 50, "campaigns": None}},
        headers=super_admin.headers,
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["plan"] == "STARTER" and data["name"] == "Renamed"
    assert data["limitOverrides"] == {"seats": 50, "campaigns": None}

    usage = (await client.get("/plan/usage", headers=org.admin.headers)).json()["data"]
    assert usage["plan"] == "STARTER"
    assert usage["limits"]["seats"]["limit"] == 50
    assert usage["limits"]["campaigns"]["limit"] is None
    assert usage["limits"]["whatsappNumbers"]["limit"] == 2

    r = await client.patch(
        f"/admin/organizations/{org.id}", json={"limitOverrides": {}}, headers=super_admin.headers
    )
    assert r.json()["data"]["limitOverrides"] == {}

    [first, _] = await audit_entries(runtime, org.id, "admin.organization_updated")
    assert first.details["changes"]["plan"] == {"from": "FREE", "to": "STARTER"}
    assert first.actor_user_id == super_admin.id and first.ip


async def test_update_validation(client, factory, super_admin):
    org = await factory.org()
    for body in (
        {"plan": "GOLD"},
        {"status": "DELETED"},
        {"limitOverrides": {"rockets": 3}},
        {"limitOverrides": {"seats": -1}},
        {"name": ""},
    ):
        r = await client.patch(f"/admin/organizations/{org.id}", json=body, headers=super_admin.headers)
        assert r.status_code == 400, body
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_organization_users(client, factory, super_admin):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    other = await factory.org()
    r = await client.get(f"/admin/organizations/{org.id}/users", headers=super_admin.headers)
    assert r.status_code == 200, r.text
    users = r.json()["data"]
    assert [u["id"] for u in users] == [org.admin.id, agent.id]
    assert other.admin.id not in {u["id"] for u in users}
    assert users[0]["hasPassword"] is True


async def test_resend_invite_renews_the_first_admins_link(client, runtime, super_admin, smtp):
    email = unique_email("first-admin")
    r = await client.post(
        "/admin/organizations",
        json={"name": "Acme", "adminEmail": email, "adminName": "Ada"},
        headers=super_admin.headers,
    )
    org_id, admin_id = r.json()["data"]["id"], r.json()["data"]["admin"]["id"]
    first = await invite_token(smtp, email)
    r = await client.post(
        f"/admin/organizations/{org_id}/resend-invite", json={"userId": admin_id}, headers=super_admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"userId": admin_id, "email": email, "sent": True}
    second = await invite_token(smtp, email, count=2)
    assert second != first
    assert (await client.get(f"/invitations/token/{first}")).status_code == 404
    assert (await client.get(f"/invitations/token/{second}")).status_code == 200
    assert await audit_entries(runtime, org_id, "admin.invite_resent")


async def test_resend_invite_to_a_user_who_has_a_password_conflicts(client, factory, super_admin):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.post(
        f"/admin/organizations/{org.id}/resend-invite", json={"userId": agent.id}, headers=super_admin.headers
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "ALREADY_ACCEPTED"


async def test_resend_invite_validation_and_other_organizations_user(client, factory, super_admin):
    org = await factory.org()
    other = await factory.org()
    path = f"/admin/organizations/{org.id}/resend-invite"
    r = await client.post(path, json={}, headers=super_admin.headers)
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "userId"
    r = await client.post(path, json={"userId": other.admin.id}, headers=super_admin.headers)
    assert r.status_code == 404


async def test_system_config_masks_every_secret(client, runtime, super_admin):
    settings = runtime.settings
    for path in ("/admin/system-config", "/config"):
        r = await client.get(path, headers=super_admin.headers)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert data["settings"]["publicUrl"] == settings.public_url
        assert "secretKey" in data["maskedFields"]
        assert data["settings"]["secretKey"].startswith("••••")
        for secret in (settings.secret_key, settings.smtp_url, settings.database_url, settings.redis_url):
            if secret:
                assert secret not in r.text
        assert data["databaseBackend"] in {"sqlite", "postgresql"}


async def test_suspended_organization_keeps_data_and_is_blocked_until_reactivated(
    client, factory, super_admin
):
    org = await factory.org()
    key = (await client.post("/api-keys", json={"name": "k"}, headers=org.admin.headers)).json()["data"][
        "key"
    ]
    h = super_admin.headers
    assert (
        await client.patch(f"/admin/organizations/{org.id}", json={"status": "SUSPENDED"}, headers=h)
    ).status_code == 200

    r = await client.get("/auth/me", headers=org.admin.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "ORGANIZATION_SUSPENDED"
    r = await client.get("/users", headers={"X-API-Key": key})
    assert r.json()["error"]["code"] == "ORGANIZATION_SUSPENDED"
    r = await client.post("/auth/login", json={"email": org.admin.email, "password": "correct-horse-battery"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "ORGANIZATION_SUSPENDED"
    r = await client.post("/auth/refresh", json={"refreshToken": org.admin.refresh_token})
    assert r.status_code == 403 and r.json()["error"]["code"] == "ORGANIZATION_SUSPENDED"

    await client.patch(f"/admin/organizations/{org.id}", json={"status": "CANCELLED"}, headers=h)
    r = await client.get("/auth/me", headers=org.admin.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "ORGANIZATION_CANCELLED"

    await client.patch(f"/admin/organizations/{org.id}", json={"status": "ACTIVE"}, headers=h)
    assert (await client.get("/auth/me", headers=org.admin.headers)).status_code == 200
    users = await client.get("/users", headers={"X-API-Key": key})
    assert users.status_code == 200 and len(users.json()["data"]) == 1
    r = await client.post("/auth/refresh", json={"refreshToken": org.admin.refresh_token})
    assert r.status_code == 200, r.text
