"""/api-keys: organization API keys, shown once, usable as a bearer token or ``X-API-Key``."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from cxinbox.auth.refresh import start_session
from cxinbox.core.clock import utcnow
from cxinbox.core.ids import new_id
from cxinbox.models.identity import ApiKey, Organization, OrganizationStatus, Role
from tests.fixtures.api import bearer, create_api_key
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.factories import update_rows


def as_x_api_key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


#: a read any key made without scopes may do (keys never reach ``/api-keys`` itself)
PROBE = "/users"


async def listed(client, headers) -> dict[str, dict]:
    r = await client.get("/api-keys", headers=headers)
    assert r.status_code == 200, r.text
    return {k["id"]: k for k in r.json()["data"]}


async def test_create_shows_the_key_once(client, factory):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers, name="  CRM sync  ")
    assert created["name"] == "CRM sync"
    assert created["key"].startswith(created["prefix"] + "_")
    assert created["prefix"].startswith("cxk_")
    assert created["isActive"] is True and created["usageCount"] == 0 and created["lastUsedAt"] is None
    assert created["createdById"] == org.admin.id

    r = await client.get("/api-keys", headers=org.admin.headers)
    assert created["key"] not in r.text
    [item] = r.json()["data"]
    assert "key" not in item
    assert item["id"] == created["id"] and item["prefix"] == created["prefix"]


async def test_list_is_newest_first(client, factory):
    org = await factory.org()
    first = await create_api_key(client, org.admin.headers, name="first")
    second = await create_api_key(client, org.admin.headers, name="second")
    assert list(await listed(client, org.admin.headers)) == [second["id"], first["id"]]


@pytest.mark.parametrize("header", [bearer, as_x_api_key])
async def test_the_key_authenticates_for_its_organization(client, factory, header):
    org = await factory.org()
    other = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    other_key = await create_api_key(client, other.admin.headers)
    r = await client.get(PROBE, headers=header(created["key"]))
    assert r.status_code == 200, r.text
    assert [u["id"] for u in r.json()["data"]] == [org.admin.id]
    r = await client.get(PROBE, headers=header(other_key["key"]))
    assert [u["id"] for u in r.json()["data"]] == [other.admin.id]


async def test_usage_is_counted(client, factory):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    await client.get(PROBE, headers=bearer(created["key"]))
    await client.get(PROBE, headers=as_x_api_key(created["key"]))
    key = (await listed(client, org.admin.headers))[created["id"]]
    assert key["usageCount"] == 2
    assert key["lastUsedAt"] is not None and key["lastUsedAt"].endswith("Z")


async def test_usage_is_counted_when_the_request_fails(client, factory):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    key = bearer(created["key"])
    error_of(await client.put(f"/tags/{new_id()}", json={"name": "x"}, headers=key), 404, "NOT_FOUND")
    error_of(await client.get("/auth/me", headers=key), 403, "FORBIDDEN")
    assert bad_fields(await client.post("/tags", json={}, headers=key)) == {"name"}
    failing = await asyncio.gather(*(client.get("/auth/me", headers=key) for _ in range(4)))
    assert {r.status_code for r in failing} == {403}
    used = (await listed(client, org.admin.headers))[created["id"]]
    assert used["usageCount"] == 7 and used["lastUsedAt"] is not None


async def test_a_deleted_key_is_refused(client, factory):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    r = await client.delete(f"/api-keys/{created['id']}", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"id": created["id"], "deleted": True}
    assert created["id"] not in await listed(client, org.admin.headers)
    for header in (bearer, as_x_api_key):
        error_of(await client.get(PROBE, headers=header(created["key"])), 401, "UNAUTHORIZED")
    error_of(await client.delete(f"/api-keys/{created['id']}", headers=org.admin.headers), 404, "NOT_FOUND")


async def test_a_deactivated_key_is_refused_until_reactivated(client, factory):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    path = f"/api-keys/{created['id']}"
    r = await client.patch(path, json={"isActive": False}, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["isActive"] is False
    for header in (bearer, as_x_api_key):
        error_of(await client.get(PROBE, headers=header(created["key"])), 401, "UNAUTHORIZED")
    await client.patch(path, json={"isActive": True}, headers=org.admin.headers)
    assert (await client.get(PROBE, headers=bearer(created["key"]))).status_code == 200


async def test_an_expired_key_is_refused(client, factory, runtime):
    org = await factory.org()
    created = await create_api_key(
        client, org.admin.headers, expiresAt=(utcnow() + timedelta(days=1)).isoformat()
    )
    assert created["expiresAt"].endswith("Z")
    assert (await client.get(PROBE, headers=bearer(created["key"]))).status_code == 200
    await update_rows(runtime, ApiKey, ApiKey.id == created["id"], expires_at=utcnow() - timedelta(seconds=1))
    for header in (bearer, as_x_api_key):
        error_of(await client.get(PROBE, headers=header(created["key"])), 401, "UNAUTHORIZED")


async def test_a_key_of_a_suspended_organization_is_refused(client, factory, runtime):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    await update_rows(runtime, Organization, Organization.id == org.id, status=OrganizationStatus.SUSPENDED)
    error_of(await client.get(PROBE, headers=bearer(created["key"])), 403, "ORGANIZATION_SUSPENDED")


async def test_patch_renames(client, factory):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers, name="old")
    r = await client.patch(f"/api-keys/{created['id']}", json={"name": "new"}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == "new" and r.json()["data"]["isActive"] is True
    assert (await listed(client, org.admin.headers))[created["id"]]["name"] == "new"
    # the key still works under its new name
    assert (await client.get(PROBE, headers=bearer(created["key"]))).status_code == 200


async def test_validation_errors_name_the_fields(client, factory):
    org = await factory.org()
    assert bad_fields(await client.post("/api-keys", json={}, headers=org.admin.headers)) == {"name"}
    assert bad_fields(await client.post("/api-keys", json={"name": ""}, headers=org.admin.headers)) == {
        "name"
    }
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    r = await client.post("/api-keys", json={"name": "x", "expiresAt": past}, headers=org.admin.headers)
    assert bad_fields(r) == {"expiresAt"}
    r = await client.post("/api-keys", json={"name": "x", "expiresAt": "tomorrow"}, headers=org.admin.headers)
    assert bad_fields(r) == {"expiresAt"}
    created = await create_api_key(client, org.admin.headers)
    r = await client.patch(
        f"/api-keys/{created['id']}", json={"isActive": "maybe"}, headers=org.admin.headers
    )
    assert bad_fields(r) == {"isActive"}
    r = await client.patch(f"/api-keys/{created['id']}", json={"expiresAt": past}, headers=org.admin.headers)
    assert bad_fields(r) == {"expiresAt"}


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
async def test_only_admins_manage_keys(client, factory, role):
    org = await factory.org()
    member = await factory.member(org.id, role)
    created = await create_api_key(client, org.admin.headers)
    path = f"/api-keys/{created['id']}"
    for response in (
        await client.get("/api-keys", headers=member.headers),
        await client.post("/api-keys", json={"name": "mine"}, headers=member.headers),
        await client.patch(path, json={"name": "mine"}, headers=member.headers),
        await client.delete(path, headers=member.headers),
    ):
        error_of(response, 403, "FORBIDDEN")
    assert (await listed(client, org.admin.headers))[created["id"]]["name"] == "integration"


async def test_another_organizations_key_is_not_found(client, factory):
    org = await factory.org()
    other = await factory.org()
    theirs = await create_api_key(client, other.admin.headers)
    path = f"/api-keys/{theirs['id']}"
    error_of(await client.patch(path, json={"name": "mine"}, headers=org.admin.headers), 404, "NOT_FOUND")
    error_of(await client.delete(path, headers=org.admin.headers), 404, "NOT_FOUND")
    error_of(
        await client.patch(f"/api-keys/{new_id()}", json={}, headers=org.admin.headers), 404, "NOT_FOUND"
    )
    still = await listed(client, other.admin.headers)
    assert still[theirs["id"]]["name"] == "integration"
    assert (await client.get(PROBE, headers=bearer(theirs["key"]))).status_code == 200


async def test_without_credentials_every_operation_answers_401(client):
    path = f"/api-keys/{new_id()}"
    for response in (
        await client.get("/api-keys"),
        await client.post("/api-keys", json={"name": "x"}),
        await client.patch(path, json={"name": "x"}),
        await client.delete(path),
    ):
        error_of(response, 401, "UNAUTHORIZED")


async def test_a_super_admin_manages_keys_only_inside_an_organization(client, factory, runtime):
    org = await factory.org()
    operator = await factory.super_admin()
    error_of(await client.get("/api-keys", headers=operator.headers), 403, "FORBIDDEN")
    async with runtime.unit_of_work() as session:
        inside = bearer(start_session(session, runtime, operator.user, acting_org=org.id).access_token)
    created = await create_api_key(client, inside)
    assert created["createdById"] == operator.id
    assert created["id"] in await listed(client, org.admin.headers)


async def test_concurrent_uses_are_all_counted(client, factory):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    uses = 8
    responses = await asyncio.gather(
        *(client.get(PROBE, headers=bearer(created["key"])) for _ in range(uses))
    )
    assert {r.status_code for r in responses} == {200}
    assert (await listed(client, org.admin.headers))[created["id"]]["usageCount"] == uses
