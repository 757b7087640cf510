"""Every /admin endpoint: 401 without a token, 403 for an organization's ADMIN (and an API key)."""

from __future__ import annotations

import pytest

from cxinbox.models.identity import Role

ENDPOINTS = [
    ("GET", "/admin/stats", None),
    ("GET", "/admin/organizations", None),
    ("POST", "/admin/organizations", {"name": "X", "adminEmail": "x@example.com", "adminName": "X"}),
    ("GET", "/admin/organizations/{org}", None),
    ("PATCH", "/admin/organizations/{org}", {"plan": "STARTER"}),
    (
        "POST",
        "/admin/organizations/bulk",
        {"action": "suspend", "selection": {"mode": "ids", "ids": ["{org}"]}},
    ),
    ("GET", "/admin/organizations/{org}/users", None),
    ("POST", "/admin/organizations/{org}/resend-invite", {"userId": "u"}),
    ("GET", "/admin/system-config", None),
    ("POST", "/admin/enter-org/{org}", None),
]


def _fill(value, org_id):
    if isinstance(value, str):
        return value.replace("{org}", org_id)
    if isinstance(value, list):
        return [_fill(v, org_id) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, org_id) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_needs_a_token(client, factory, method, path, body):
    org = await factory.org()
    r = await client.request(method, _fill(path, org.id), json=_fill(body, org.id))
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_organization_admin_is_forbidden(client, factory, method, path, body):
    org = await factory.org()
    r = await client.request(method, _fill(path, org.id), json=_fill(body, org.id), headers=org.admin.headers)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "FORBIDDEN"


async def test_api_key_is_forbidden(client, factory):
    org = await factory.org()
    created = await client.post("/api-keys", json={"name": "k"}, headers=org.admin.headers)
    key = created.json()["data"]["key"]
    r = await client.get("/admin/stats", headers={"X-API-Key": key})
    assert r.status_code == 403


async def test_agent_is_forbidden(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.get("/admin/organizations", headers=agent.headers)).status_code == 403
