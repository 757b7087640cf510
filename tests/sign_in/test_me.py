"""GET /auth/me, POST /auth/set-password, POST /auth/complete-onboarding."""

from __future__ import annotations

import pytest

from cxinbox.auth.tokens import TokenSigner
from cxinbox.core.clock import utcnow
from cxinbox.models.identity import Role, User
from tests.fixtures.api import bearer, create_api_key
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.factories import PASSWORD, update_rows


async def test_me_describes_the_user_and_the_organization(client, factory):
    org = await factory.org()
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    r = await client.get("/auth/me", headers=supervisor.headers)
    assert r.status_code == 200, r.text
    me = r.json()["data"]
    assert me["id"] == supervisor.id
    assert me["email"] == supervisor.email
    assert me["role"] == "SUPERVISOR"
    assert me["status"] == "OFFLINE"
    assert me["isActive"] is True
    assert me["hasPassword"] is True
    assert me["organizationId"] == org.id
    assert me["createdAt"].endswith("Z")
    assert me["organization"]["id"] == org.id and me["organization"]["slug"] == org.organization.slug


async def test_me_of_a_super_admin_has_no_organization(client, factory):
    admin = await factory.super_admin()
    me = (await client.get("/auth/me", headers=admin.headers)).json()["data"]
    assert me["role"] == "SUPER_ADMIN" and me["organization"] is None and me["organizationId"] is None


async def test_me_needs_a_user_not_an_api_key(client, factory):
    org = await factory.org()
    key = (await create_api_key(client, org.admin.headers))["key"]
    error_of(await client.get("/auth/me", headers=bearer(key)), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"X-API-Key": "cxk_00000000_unknown"},
    ],
)
async def test_me_without_a_valid_credential_answers_401(client, headers):
    error_of(await client.get("/auth/me", headers=headers), 401, "UNAUTHORIZED")


async def test_a_token_signed_with_another_key_answers_401(client, factory):
    org = await factory.org()
    forged = TokenSigner("another-secret").issue(
        {"sub": org.admin.id, "org": org.id}, kind="access", ttl_seconds=60
    )
    error_of(await client.get("/auth/me", headers=bearer(forged)), 401, "UNAUTHORIZED")


async def test_an_events_token_is_not_an_access_token(client, factory, runtime):
    org = await factory.org()
    stream_token = runtime.tokens.issue({"sub": org.admin.id, "org": org.id}, kind="events", ttl_seconds=60)
    error_of(await client.get("/auth/me", headers=bearer(stream_token)), 401, "UNAUTHORIZED")


async def test_set_password_then_sign_in_with_it(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.post(
        "/auth/set-password",
        json={"password": "a-brand-new-one", "currentPassword": PASSWORD},
        headers=agent.headers,
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["updated"] is True and data["user"]["id"] == agent.id

    new = await client.post("/auth/login", json={"email": agent.email, "password": "a-brand-new-one"})
    assert new.status_code == 200, new.text
    old = await client.post("/auth/login", json={"email": agent.email, "password": PASSWORD})
    error_of(old, 401, "UNAUTHORIZED")


async def test_set_password_signs_out_every_other_session(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    elsewhere = await client.post("/auth/login", json={"email": agent.email, "password": PASSWORD})
    assert elsewhere.status_code == 200, elsewhere.text
    r = await client.post(
        "/auth/set-password",
        json={"password": "a-brand-new-one", "currentPassword": PASSWORD},
        headers=agent.headers,
    )
    assert r.status_code == 200, r.text
    fresh = r.json()["data"]

    for old in (agent.refresh_token, elsewhere.json()["data"]["refreshToken"]):
        error_of(await client.post("/auth/refresh", json={"refreshToken": old}), 401, "UNAUTHORIZED")
    assert (await client.get("/auth/me", headers=bearer(fresh["accessToken"]))).status_code == 200
    r = await client.post("/auth/refresh", json={"refreshToken": fresh["refreshToken"]})
    assert r.status_code == 200, r.text


async def test_set_password_validates_and_needs_a_user(client, factory):
    org = await factory.org()
    r = await client.post("/auth/set-password", json={"password": "short"}, headers=org.admin.headers)
    assert bad_fields(r) == {"password"}
    error_of(await client.post("/auth/set-password", json={"password": "long-enough"}), 401, "UNAUTHORIZED")
    key = (await create_api_key(client, org.admin.headers))["key"]
    r = await client.post("/auth/set-password", json={"password": "long-enough"}, headers=bearer(key))
    error_of(r, 403, "FORBIDDEN")


async def test_complete_onboarding_marks_the_organization(client, factory):
    org = await factory.org()
    r = await client.post("/auth/complete-onboarding", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["id"] == org.id and data["onboardingCompleted"] is True
    me = (await client.get("/auth/me", headers=org.admin.headers)).json()["data"]
    assert me["organization"]["onboardingCompleted"] is True
    # completing twice is harmless
    assert (await client.post("/auth/complete-onboarding", headers=org.admin.headers)).status_code == 200


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
async def test_complete_onboarding_is_admin_only(client, factory, role):
    org = await factory.org()
    member = await factory.member(org.id, role)
    error_of(await client.post("/auth/complete-onboarding", headers=member.headers), 403, "FORBIDDEN")
    me = (await client.get("/auth/me", headers=org.admin.headers)).json()["data"]
    assert me["organization"]["onboardingCompleted"] is False


async def test_complete_onboarding_needs_an_organization(client, factory):
    admin = await factory.super_admin()
    error_of(await client.post("/auth/complete-onboarding", headers=admin.headers), 403, "FORBIDDEN")


async def test_an_expired_access_token_answers_401(client, factory, runtime):
    org = await factory.org()
    expired = runtime.tokens.issue({"sub": org.admin.id, "org": org.id}, kind="access", ttl_seconds=-1)
    error = error_of(await client.get("/auth/me", headers=bearer(expired)), 401, "UNAUTHORIZED")
    assert error["details"] == {"reason": "token_expired"}


async def test_a_deleted_user_is_refused(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    await update_rows(runtime, User, User.id == agent.id, deleted_at=utcnow())
    error_of(await client.get("/auth/me", headers=agent.headers), 401, "UNAUTHORIZED")
    r = await client.post("/auth/login", json={"email": agent.email, "password": PASSWORD})
    error_of(r, 401, "UNAUTHORIZED")


async def test_a_user_without_a_password_sets_one(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    await update_rows(runtime, User, User.id == agent.id, password_hash=None)
    assert (await client.get("/auth/me", headers=agent.headers)).json()["data"]["hasPassword"] is False
    r = await client.post("/auth/login", json={"email": agent.email, "password": PASSWORD})
    error_of(r, 401, "UNAUTHORIZED")
    await client.post("/auth/set-password", json={"password": "first-password"}, headers=agent.headers)
    assert (await client.get("/auth/me", headers=agent.headers)).json()["data"]["hasPassword"] is True
    r = await client.post("/auth/login", json={"email": agent.email, "password": "first-password"})
    assert r.status_code == 200, r.text
