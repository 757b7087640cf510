"""Checked credentials kept in the process (``auth.verified``): a credential checked once skips the
database on its next request, and every change of what the check reads is honoured on the very next
request, each test first using the credential so that it is remembered."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import text

from cxinbox.auth.principal import Principal
from cxinbox.auth.verified import VerifiedCredentials, credentials_changed, generation
from cxinbox.core.clock import utcnow
from cxinbox.models.identity import ApiKey, Organization, OrganizationStatus, Role, User
from tests.fixtures.api import bearer, create_api_key
from tests.fixtures.errors import error_of
from tests.fixtures.factories import update_rows
from tests.fixtures.statements import statements_of

ME = "/auth/me"
#: a read an API key made without scopes may do
PROBE = "/users"
#: admins only
ADMINS_ONLY = "/api-keys"


def reads_of(runtime, table: str) -> AbstractContextManager[list[str]]:
    """The statements that read ``table`` while the block runs (any of the runtime's engines)."""
    return statements_of(runtime, lambda s: s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s)


async def test_a_checked_token_skips_the_read_on_its_next_request(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.get(ME, headers=agent.headers)).status_code == 200
    with reads_of(runtime, "users") as reads:
        assert (await client.get(PROBE, headers=agent.headers)).status_code == 200
    # /users counts and lists the organization's users, but nothing read the token's user by id
    assert reads and not [read for read in reads if "WHERE users.id = " in read.replace('"', "")]


async def test_a_deactivated_user_is_refused_on_the_next_request(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.get(ME, headers=agent.headers)).status_code == 200
    r = await client.patch(f"/users/{agent.id}", json={"isActive": False}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    error_of(await client.get(ME, headers=agent.headers), 401, "UNAUTHORIZED")


async def test_a_deleted_user_is_refused_on_the_next_request(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.get(ME, headers=agent.headers)).status_code == 200
    r = await client.delete(f"/users/{agent.id}", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    error_of(await client.get(ME, headers=agent.headers), 401, "UNAUTHORIZED")


async def test_a_role_change_applies_on_the_next_request(client, factory):
    org = await factory.org()
    second = await factory.member(org.id, Role.ADMIN)
    assert (await client.get(ADMINS_ONLY, headers=second.headers)).status_code == 200
    r = await client.patch(f"/users/{second.id}", json={"role": "AGENT"}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    error_of(await client.get(ADMINS_ONLY, headers=second.headers), 403, "FORBIDDEN")
    assert (await client.get(ME, headers=second.headers)).json()["data"]["role"] == "AGENT"


async def test_a_change_behind_the_apis_back_applies_on_the_next_request(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.get(ME, headers=agent.headers)).status_code == 200
    await update_rows(runtime, User, User.id == agent.id, deleted_at=utcnow())
    error_of(await client.get(ME, headers=agent.headers), 401, "UNAUTHORIZED")


async def test_a_suspended_organization_is_refused_on_the_next_request(client, factory, runtime):
    org = await factory.org()
    key = (await create_api_key(client, org.admin.headers))["key"]
    assert (await client.get(ME, headers=org.admin.headers)).status_code == 200
    assert (await client.get(PROBE, headers=bearer(key))).status_code == 200
    await update_rows(runtime, Organization, Organization.id == org.id, status=OrganizationStatus.SUSPENDED)
    error_of(await client.get(ME, headers=org.admin.headers), 403, "ORGANIZATION_SUSPENDED")
    error_of(await client.get(PROBE, headers=bearer(key)), 403, "ORGANIZATION_SUSPENDED")


async def test_changes_that_decide_nothing_keep_the_check(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    key = (await create_api_key(client, org.admin.headers))["key"]
    assert (await client.get(PROBE, headers=bearer(key))).status_code == 200
    before = generation()
    r = await client.patch(f"/users/{agent.id}/status", json={"status": "AWAY"}, headers=agent.headers)
    assert r.status_code == 200, r.text
    assert (await client.get(PROBE, headers=bearer(key))).status_code == 200  # its use counted
    assert generation() == before


async def test_a_revoked_key_is_refused_on_the_next_request(client, factory):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    assert (await client.get(PROBE, headers=bearer(created["key"]))).status_code == 200
    r = await client.patch(f"/api-keys/{created['id']}", json={"isActive": False}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    error_of(await client.get(PROBE, headers={"X-API-Key": created["key"]}), 401, "UNAUTHORIZED")


async def test_a_key_deactivated_without_this_process_knowing_is_refused(client, factory, runtime):
    """A raw statement on its own connection raises no generation (as another process's change):
    the key's use is counted only while it is active, so its next request is checked again."""
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    assert (await client.get(PROBE, headers=bearer(created["key"]))).status_code == 200
    before = generation()
    async with runtime.engine.begin() as conn:
        await conn.execute(
            text("UPDATE api_keys SET is_active = :no WHERE id = :id"), {"no": False, "id": created["id"]}
        )
    assert generation() == before
    error_of(await client.get(PROBE, headers=bearer(created["key"])), 401, "UNAUTHORIZED")
    [row] = [k for k in (await client.get("/api-keys", headers=org.admin.headers)).json()["data"]]
    assert row["usageCount"] == 1  # the refused use was not counted


async def test_a_changed_scope_applies_on_the_next_request(client, factory, runtime):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers, scopes=["users:read"])
    assert (await client.get(PROBE, headers=bearer(created["key"]))).status_code == 200
    await update_rows(runtime, ApiKey, ApiKey.id == created["id"], scopes=["contacts:read"])
    error_of(await client.get(PROBE, headers=bearer(created["key"])), 403, "FORBIDDEN")


async def test_a_rolled_back_change_keeps_the_checks(runtime, factory):
    org = await factory.org()
    before = generation()
    session = runtime.sessionmaker()
    try:
        user = await session.get(User, org.admin.id)
        user.is_active = False
        await session.flush()
        await session.rollback()
    finally:
        await session.close()
    assert generation() == before


async def test_a_released_savepoint_is_no_commit(runtime, factory):
    """A change inside a savepoint raises the generation when the outermost transaction commits,
    not before (a check made in between would read the old row and be kept)."""
    org = await factory.org()
    before = generation()
    async with runtime.sessionmaker() as session:
        async with session.begin_nested():
            user = await session.get(User, org.admin.id)
            user.role = Role.AGENT
        assert generation() == before
        await session.commit()
    assert generation() > before


def principal() -> Principal:
    return Principal(role=Role.AGENT, organization_id="org", user_id="user")


def test_a_check_that_raced_a_change_is_not_kept():
    cache = VerifiedCredentials(ttl_seconds=60)
    checked_at = generation()
    credentials_changed()  # committed while the check read
    cache.put("token", principal(), checked_at, None)
    assert cache.get("token") is None


def test_a_change_makes_every_check_stale():
    cache = VerifiedCredentials(ttl_seconds=60)
    cache.put("token", principal(), generation(), None)
    assert cache.get("token") == principal()
    credentials_changed()
    assert cache.get("token") is None and len(cache) == 0


def test_a_credential_past_its_expiry_is_not_served():
    cache = VerifiedCredentials(ttl_seconds=60)
    cache.put("token", principal(), generation(), utcnow())
    assert cache.get("token") is None


def test_a_zero_lifetime_keeps_nothing_and_the_oldest_go_first():
    assert len(off := VerifiedCredentials(ttl_seconds=0)) == 0
    off.put("token", principal(), generation(), None)
    assert off.get("token") is None
    small = VerifiedCredentials(ttl_seconds=60, max_entries=2)
    for name in ("a", "b", "c"):
        small.put(name, principal(), generation(), None)
    assert small.get("a") is None and small.get("b") and small.get("c")
