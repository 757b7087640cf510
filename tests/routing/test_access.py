"""Every routing endpoint: no token (401), a role that may not (403), another organization's ids
(404)."""

from __future__ import annotations

import json

import pytest

from tests.routing.conftest import cond

CONDITIONS = [cond("messageText", "contains", "invoice")]
RULE = {"name": "x", "teamId": "{team}", "conditions": CONDITIONS}
CONFLICTS = "/routing-rules/check-conflicts?teamId={team}&conditions=" + json.dumps(CONDITIONS)

READS = [
    ("GET", "/routing-rules", None),
    ("GET", CONFLICTS, None),
    ("GET", "/routing-rules/default-team", None),
    ("GET", "/routing-rules/business-hours", None),
    ("GET", "/routing-rules/maintenance", None),
    ("GET", "/routing-rules/off-hours", None),
    ("GET", "/routing-rules/idle-agent", None),
]
ADMIN_ONLY = [
    ("POST", "/routing-rules", RULE),
    ("PATCH", "/routing-rules/{rule}", {"name": "y"}),
    ("DELETE", "/routing-rules/{rule}", None),
    ("POST", "/routing-rules/reorder", {"orderedIds": ["{rule}"]}),
    ("POST", "/routing-rules/run-now", {"dryRun": True}),
    ("PUT", "/routing-rules/default-team", {"teamId": "{team}"}),
    ("PUT", "/routing-rules/business-hours", {"timezone": "UTC", "isEnabled": False}),
    ("PUT", "/routing-rules/maintenance", {"maintenanceMode": False}),
    ("PUT", "/routing-rules/off-hours", {"offHoursAutoReply": False}),
    ("PUT", "/routing-rules/idle-agent", {"idleMinutes": 20}),
    ("POST", "/routing-rules/idle-agent/run", None),
]
REROUTE = ("POST", "/conversations/{conversation}/re-route", None)
EVERY = [*READS, *ADMIN_ONLY, REROUTE]


def _fill(value, ids: dict[str, str]):
    if isinstance(value, str):
        for name, id in ids.items():
            value = value.replace("{" + name + "}", id)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.fixture
async def ids(routing) -> dict[str, str]:
    rule = await routing.rule(CONDITIONS)
    return {
        "team": routing.support_id,
        "rule": rule["id"],
        "conversation": await routing.inbox.customer_writes("hello"),
    }


async def _call(client, endpoint, member, ids):
    method, path, body = endpoint
    return await client.request(
        method, _fill(path, ids), json=_fill(body, ids), headers=member.headers if member else {}
    )


@pytest.mark.parametrize("endpoint", EVERY, ids=lambda e: f"{e[0]} {e[1][:40]}")
async def test_no_token_is_401(client, ids, endpoint):
    r = await _call(client, endpoint, None, ids)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("role", ["agent", "supervisor"])
@pytest.mark.parametrize("endpoint", ADMIN_ONLY, ids=lambda e: f"{e[0]} {e[1]}")
async def test_only_an_admin_changes_routing(client, routing, ids, endpoint, role):
    r = await _call(client, endpoint, getattr(routing.inbox, role), ids)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "FORBIDDEN"
    r = await _call(client, endpoint, routing.admin, ids)
    assert r.status_code in (200, 201), r.text


@pytest.mark.parametrize("endpoint", READS, ids=lambda e: f"{e[0]} {e[1][:40]}")
async def test_every_member_reads(client, routing, ids, endpoint):
    for member in (routing.inbox.agent, routing.inbox.supervisor, routing.admin):
        r = await _call(client, endpoint, member, ids)
        assert r.status_code == 200, r.text


async def test_an_agent_may_not_reroute(client, routing, ids):
    r = await _call(client, REROUTE, routing.inbox.agent, ids)
    assert r.status_code == 404, r.text  # not in the agent's view
    ids = ids | {"conversation": await routing.inbox.in_team()}
    r = await _call(client, REROUTE, routing.inbox.agent, ids)
    assert r.status_code == 403, r.text
    for member in (routing.inbox.supervisor, routing.admin):
        r = await _call(client, REROUTE, member, ids)
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "endpoint",
    [
        ("PATCH", "/routing-rules/{rule}", {"name": "y"}),
        ("DELETE", "/routing-rules/{rule}", None),
        ("POST", "/routing-rules", RULE),
        ("PATCH", "/routing-rules/{own}", {"teamId": "{team}"}),
        ("PUT", "/routing-rules/default-team", {"teamId": "{team}"}),
        REROUTE,
    ],
    ids=lambda e: f"{e[0]} {e[1]} {e[2]}",
)
async def test_another_organizations_ids_are_404(client, routing, ids, endpoint):
    """The other organization's rule, team and conversation, used by this organization's admin."""
    other = routing.other
    r = await client.post(
        "/routing-rules", json=_fill(RULE, {"team": routing.other_team_id}), headers=other.admin.headers
    )
    assert r.status_code == 201, r.text
    theirs = {
        "rule": r.json()["data"]["id"],
        "team": routing.other_team_id,
        "own": ids["rule"],
        "conversation": await routing.theirs.customer_writes("hi"),
    }
    r = await _call(client, endpoint, routing.admin, theirs)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "NOT_FOUND"
