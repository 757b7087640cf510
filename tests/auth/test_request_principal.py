"""A request's credential is checked once, however many of its route's dependencies need the caller
(a role check, the tenant, the principal): each takes the credentials itself, and the first check
is kept for the rest of the request."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cxinbox.auth.dependencies import AdminDep, PrincipalDep, TenantDep
from cxinbox.auth.scopes import Area, key_scope
from tests.fixtures.api import bearer, create_api_key


def _app_needing_the_caller_thrice(app: FastAPI) -> FastAPI:
    probe = FastAPI()
    probe.state.runtime = app.state.runtime

    @probe.get("/probe", dependencies=[key_scope(Area.USERS)])
    async def needs_the_caller(admin: AdminDep, tenant: TenantDep, principal: PrincipalDep) -> dict[str, str]:
        assert admin is principal
        return {"organizationId": tenant.organization_id}

    return probe


async def test_an_api_key_is_checked_and_counted_once_per_request(app, client, factory):
    org = await factory.org()
    created = await create_api_key(client, org.admin.headers)
    transport = httpx.ASGITransport(app=_app_needing_the_caller_thrice(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as probe:
        r = await probe.get("/probe", headers=bearer(created["key"]))
    assert r.status_code == 200, r.text
    assert r.json() == {"organizationId": org.id}
    r = await client.get("/api-keys", headers=org.admin.headers)
    [key] = [k for k in r.json()["data"] if k["id"] == created["id"]]
    assert key["usageCount"] == 1
