"""Every /teams endpoint: no token (401), a role that may not (403), another organization (404)."""

from __future__ import annotations

import pytest

from tests.teams.conftest import team_name

ADMIN_ONLY = [
    ("POST", "/teams", {"name": "x"}),
    ("PATCH", "/teams/{id}", {"description": "x"}),
    ("DELETE", "/teams/{id}", None),
    ("POST", "/teams/{id}/members", {"userId": "{user}"}),
    ("PATCH", "/teams/{id}/members/{user}", {"role": "LEAD"}),
    ("DELETE", "/teams/{id}/members/{user}", None),
    ("PUT", "/teams/{id}/schedule", {"timezone": "Europe/Madrid"}),
]
READS_OF_ONE_TEAM = [
    ("GET", "/teams/{id}", None),
    ("GET", "/teams/{id}/schedule", None),
    ("GET", "/teams/{id}/schedule/status", None),
]
EVERY_ENDPOINT = [("GET", "/teams", None), *READS_OF_ONE_TEAM, *ADMIN_ONLY]
ON_ONE_TEAM = [e for e in EVERY_ENDPOINT if "{id}" in e[1]]


def _fill(value, team_id: str, user_id: str):
    if isinstance(value, str):
        return value.replace("{id}", team_id).replace("{user}", user_id)
    if isinstance(value, dict):
        return {k: _fill(v, team_id, user_id) for k, v in value.items()}
    return value


async def _call(client, endpoint, member, team_id: str, user_id: str):
    method, path, body = endpoint
    if body is not None and body.get("name") == "x":
        body = {"name": team_name()}
    return await client.request(
        method,
        _fill(path, team_id, user_id),
        json=_fill(body, team_id, user_id),
        headers=member.headers if member else {},
    )


@pytest.mark.parametrize("endpoint", EVERY_ENDPOINT, ids=lambda e: f"{e[0]} {e[1]}")
async def test_no_token_is_401(client, teams, endpoint):
    r = await _call(client, endpoint, None, teams.team_id, teams.team_agent.id)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("role", ["supervisor", "agent", "team_agent"])
@pytest.mark.parametrize("endpoint", ADMIN_ONLY, ids=lambda e: f"{e[0]} {e[1]}")
async def test_admin_only_endpoints_refuse_other_roles(client, teams, endpoint, role):
    r = await _call(client, endpoint, getattr(teams, role), teams.team_id, teams.team_agent.id)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("endpoint", READS_OF_ONE_TEAM, ids=lambda e: f"{e[0]} {e[1]}")
async def test_an_agent_reads_only_its_own_teams(client, teams, endpoint):
    r = await _call(client, endpoint, teams.agent, teams.team_id, teams.team_agent.id)
    assert r.status_code == 403, r.text
    for member in (teams.team_agent, teams.supervisor, teams.admin):
        r = await _call(client, endpoint, member, teams.team_id, teams.team_agent.id)
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("endpoint", ON_ONE_TEAM, ids=lambda e: f"{e[0]} {e[1]}")
async def test_another_organizations_team_is_404(client, teams, endpoint):
    r = await _call(client, endpoint, teams.admin, teams.other_team_id, teams.team_agent.id)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ADMIN_ONLY if "{user}" in e[1] or "userId" in str(e[2])],
    ids=lambda e: f"{e[0]} {e[1]}",
)
async def test_another_organizations_user_is_404(client, teams, endpoint):
    r = await _call(client, endpoint, teams.admin, teams.team_id, teams.other.admin.id)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "NOT_FOUND"
