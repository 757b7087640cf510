"""Who may call the studio's endpoints: 401 without a token, ADMIN writes, ADMIN and SUPERVISOR read,
an AGENT only rates bot messages, and a super admin (no organization) is refused."""

from __future__ import annotations

import pytest

from cxinbox.models.identity import Role
from tests.fixtures.people import error_code

ENDPOINTS = [
    ("GET", "/bot-config/prompt-versions", None),
    ("POST", "/bot-config/prompt-versions/x/activate", None),
    ("GET", "/bot-config/presets", None),
    ("POST", "/bot-config/presets", {"name": "x", "provider": "OPENAI", "model": "m"}),
    ("PUT", "/bot-config/presets/x", {}),
    ("DELETE", "/bot-config/presets/x", None),
    ("POST", "/bot-config/presets/x/apply", None),
    ("GET", "/bot-config/snapshots", None),
    ("POST", "/bot-config/snapshots", {}),
    ("POST", "/bot-config/snapshots/x/restore", None),
    ("DELETE", "/bot-config/snapshots/x", None),
    ("GET", "/bot-config/export", None),
    ("GET", "/bot-config/export-zip", None),
    ("POST", "/bot-config/import", None),
    ("GET", "/bot-templates", None),
    ("POST", "/bot-templates/import/x", None),
    ("GET", "/bot-feedback", None),
]
READS = {(m, p) for m, p, _ in ENDPOINTS if m == "GET"}


@pytest.mark.parametrize("method, path, body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
async def test_roles(client, factory, method, path, body):
    org = await factory.org()
    assert (await client.request(method, path, json=body)).status_code == 401
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.request(method, path, json=body, headers=agent.headers)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    r = await client.request(method, path, json=body, headers=supervisor.headers)
    assert (r.status_code != 403) == ((method, path) in READS), r.text
    r = await client.request(method, path, json=body, headers=org.admin.headers)
    assert r.status_code != 403, r.text
    platform = await factory.super_admin()
    assert (await client.request(method, path, json=body, headers=platform.headers)).status_code == 403


async def test_feedback_is_refused_without_a_token_and_to_api_keys(client, factory):
    from tests.fixtures.people import api_key_headers

    org = await factory.org()
    body = {"messageId": "m", "conversationId": "c", "rating": 1}
    assert (await client.post("/bot-feedback", json=body)).status_code == 401
    key = await api_key_headers(client, org)
    assert (await client.post("/bot-feedback", json=body, headers=key)).status_code == 403
    platform = await factory.super_admin()
    assert (await client.post("/bot-feedback", json=body, headers=platform.headers)).status_code == 403
