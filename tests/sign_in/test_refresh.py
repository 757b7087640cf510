"""POST /auth/refresh: rotation, and reuse of a spent token revoking its family."""

from __future__ import annotations

from datetime import timedelta

from cxinbox.auth.refresh import start_session
from cxinbox.core.clock import utcnow
from cxinbox.models.identity import Organization, OrganizationStatus, RefreshToken, Role, User
from tests.fixtures.api import bearer
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.factories import PASSWORD, update_rows


async def refresh(client, token: str):
    return await client.post("/auth/refresh", json={"refreshToken": token})


async def test_rotation_answers_new_working_tokens(client, factory):
    org = await factory.org()
    r = await refresh(client, org.admin.refresh_token)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["refreshToken"] != org.admin.refresh_token
    assert data["accessToken"] != org.admin.access_token
    assert data["user"]["id"] == org.admin.id and data["user"]["role"] == "ADMIN"
    assert (await client.get("/auth/me", headers=bearer(data["accessToken"]))).status_code == 200
    assert (await refresh(client, data["refreshToken"])).status_code == 200


async def test_reusing_a_spent_token_revokes_the_whole_family(client, factory):
    org = await factory.org()
    first = org.admin.refresh_token
    second = (await refresh(client, first)).json()["data"]["refreshToken"]
    third = (await refresh(client, second)).json()["data"]["refreshToken"]

    error_of(await refresh(client, first), 401, "UNAUTHORIZED")
    # the newest token of the family, never used, is refused as well
    error_of(await refresh(client, third), 401, "UNAUTHORIZED")


async def test_reuse_leaves_other_sign_ins_alone(client, factory):
    org = await factory.org()
    other = await client.post("/auth/login", json={"email": org.admin.email, "password": PASSWORD})
    other_token = other.json()["data"]["refreshToken"]
    await refresh(client, org.admin.refresh_token)
    await refresh(client, org.admin.refresh_token)
    assert (await refresh(client, other_token)).status_code == 200


async def test_an_unknown_token_answers_401(client):
    error_of(await refresh(client, "not-a-refresh-token"), 401, "UNAUTHORIZED")


async def test_an_access_token_is_not_a_refresh_token(client, factory):
    org = await factory.org()
    error_of(await refresh(client, org.admin.access_token), 401, "UNAUTHORIZED")


async def test_a_deactivated_user_cannot_refresh(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    await update_rows(runtime, User, User.id == agent.id, is_active=False)
    error_of(await refresh(client, agent.refresh_token), 401, "UNAUTHORIZED")


async def test_a_suspended_organization_cannot_refresh(client, factory, runtime):
    org = await factory.org()
    await update_rows(runtime, Organization, Organization.id == org.id, status=OrganizationStatus.SUSPENDED)
    error_of(await refresh(client, org.admin.refresh_token), 403, "ORGANIZATION_SUSPENDED")


async def test_a_missing_token_answers_400(client):
    assert bad_fields(await client.post("/auth/refresh", json={})) == {"refreshToken"}


async def test_an_expired_refresh_token_answers_401(client, factory, runtime):
    org = await factory.org()
    await update_rows(
        runtime,
        RefreshToken,
        RefreshToken.user_id == org.admin.id,
        expires_at=utcnow() - timedelta(seconds=1),
    )
    error_of(await refresh(client, org.admin.refresh_token), 401, "UNAUTHORIZED")


async def test_a_super_admin_inside_an_organization_keeps_it_across_refresh(client, factory, runtime):
    org = await factory.org()
    operator = await factory.super_admin()
    async with runtime.unit_of_work() as session:
        pair = start_session(session, runtime, operator.user, acting_org=org.id)
    r = await refresh(client, pair.refresh_token)
    assert r.status_code == 200, r.text
    me = (await client.get("/auth/me", headers=bearer(r.json()["data"]["accessToken"]))).json()["data"]
    assert me["role"] == "SUPER_ADMIN" and me["organizationId"] == org.id
    assert me["impersonatedBy"] == operator.id
