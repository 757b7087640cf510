"""POST /auth/login: password sign-in, and who may not sign in."""

from __future__ import annotations

import pytest

from cxinbox.models.identity import Organization, OrganizationStatus, Role, User
from tests.fixtures.api import bearer
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.factories import PASSWORD, unique_email, update_rows


async def login(client, email: str, password: str = PASSWORD):
    return await client.post("/auth/login", json={"email": email, "password": password})


async def test_right_password_answers_tokens_that_work(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    r = await login(client, agent.email.upper())
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["user"] == {
        "id": agent.id,
        "email": agent.email,
        "name": agent.user.name,
        "role": "AGENT",
        "organizationId": org.id,
    }
    me = await client.get("/auth/me", headers=bearer(data["accessToken"]))
    assert me.status_code == 200 and me.json()["data"]["id"] == agent.id


async def test_wrong_password_answers_401(client, factory):
    org = await factory.org()
    error_of(await login(client, org.admin.email, "wrong-password"), 401, "UNAUTHORIZED")


async def test_unknown_email_answers_the_same_401(client):
    error_of(await login(client, unique_email("nobody")), 401, "UNAUTHORIZED")


async def test_an_inactive_user_cannot_sign_in(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    await update_rows(runtime, User, User.id == agent.id, is_active=False)
    error_of(await login(client, agent.email), 401, "UNAUTHORIZED")
    # and the token issued before the deactivation stops working at once
    error_of(await client.get("/auth/me", headers=agent.headers), 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (OrganizationStatus.SUSPENDED, "ORGANIZATION_SUSPENDED"),
        (OrganizationStatus.CANCELLED, "ORGANIZATION_CANCELLED"),
    ],
)
async def test_a_blocked_organization_answers_403_with_its_code(client, factory, runtime, status, code):
    org = await factory.org()
    await update_rows(runtime, Organization, Organization.id == org.id, status=status)
    error_of(await login(client, org.admin.email), 403, code)
    error_of(await client.get("/auth/me", headers=org.admin.headers), 403, code)


async def test_a_super_admin_signs_in_without_an_organization(client, factory):
    admin = await factory.super_admin()
    r = await login(client, admin.email)
    assert r.status_code == 200, r.text
    user = r.json()["data"]["user"]
    assert user["role"] == "SUPER_ADMIN" and user["organizationId"] is None


async def test_validation_errors_name_the_fields(client):
    assert bad_fields(await client.post("/auth/login", json={"email": "x"})) == {"email", "password"}
