"""List, create, read, update and deactivate teams."""

from __future__ import annotations

from tests.teams.conftest import audit_actions, create_team, events, team_name


async def test_create_answers_201_with_the_team(client, factory, runtime):
    org = await factory.org()
    name = team_name()
    r = await client.post(
        "/teams", json={"name": f"  {name} ", "description": "Sales"}, headers=org.admin.headers
    )
    assert r.status_code == 201, r.text
    team = r.json()["data"]
    assert team["name"] == name
    assert (team["description"], team["isActive"], team["memberCount"], team["members"]) == (
        "Sales",
        True,
        0,
        [],
    )
    assert team["createdAt"].endswith("Z")
    assert [(e.type, e.data["id"]) for e in await events(runtime, org.id)] == [("team.created", team["id"])]


async def test_create_validates_the_body(client, teams):
    for body in ({}, {"name": ""}, {"name": "   "}, {"name": "x" * 121}, {"name": "ok", "description": 5}):
        r = await client.post("/teams", json=body, headers=teams.admin.headers)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
        assert r.json()["error"]["details"][0]["field"] in ("name", "description")


async def test_a_name_is_unique_in_the_organization_ignoring_case(client, teams):
    name = team_name()
    await create_team(client, teams.admin, name=name)
    r = await client.post("/teams", json={"name": name.upper()}, headers=teams.admin.headers)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CONFLICT"
    # another organization may use it
    await create_team(client, teams.other.admin, name=name)


async def test_list_hides_deactivated_teams_unless_asked(client, teams):
    gone = await create_team(client, teams.admin)
    assert (await client.delete(f"/teams/{gone['id']}", headers=teams.admin.headers)).status_code == 200

    r = await client.get("/teams", headers=teams.admin.headers)
    assert r.status_code == 200
    listed = {t["id"]: t for t in r.json()["data"]}
    assert set(listed) == {teams.team_id}
    assert listed[teams.team_id]["memberCount"] == 1

    r = await client.get("/teams", params={"includeInactive": "true"}, headers=teams.supervisor.headers)
    assert {t["id"]: t["isActive"] for t in r.json()["data"]} == {teams.team_id: True, gone["id"]: False}


async def test_list_validates_include_inactive(client, teams):
    r = await client.get("/teams", params={"includeInactive": "perhaps"}, headers=teams.admin.headers)
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "includeInactive"


async def test_an_agent_lists_only_its_own_teams(client, teams):
    await create_team(client, teams.admin)
    r = await client.get("/teams", headers=teams.team_agent.headers)
    assert [t["id"] for t in r.json()["data"]] == [teams.team_id]
    r = await client.get("/teams", headers=teams.agent.headers)
    assert r.status_code == 200
    assert r.json()["data"] == []


async def test_detail_lists_members(client, teams):
    r = await client.get(f"/teams/{teams.team_id}", headers=teams.team_agent.headers)
    assert r.status_code == 200
    team = r.json()["data"]
    assert team["memberCount"] == 1
    [member] = team["members"]
    assert member == {
        "userId": teams.team_agent.id,
        "name": teams.team_agent.user.name,
        "email": teams.team_agent.email,
        "role": "MEMBER",
        "userRole": "AGENT",
        "joinedAt": member["joinedAt"],
    }


async def test_unknown_team_is_404(client, teams):
    r = await client.get("/teams/no-such-team", headers=teams.admin.headers)
    assert r.status_code == 404


async def test_update_changes_only_what_is_given(client, teams, runtime):
    name = team_name()
    r = await client.patch(f"/teams/{teams.team_id}", json={"name": name}, headers=teams.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == name
    r = await client.patch(
        f"/teams/{teams.team_id}", json={"description": "Billing"}, headers=teams.admin.headers
    )
    assert (r.json()["data"]["name"], r.json()["data"]["description"]) == (name, "Billing")
    assert len(r.json()["data"]["members"]) == 1
    updated = [e for e in await events(runtime, teams.org.id) if e.type == "team.updated"]
    assert updated[-1].data["description"] == "Billing"


async def test_update_validates_the_body(client, teams):
    for body in ({"name": ""}, {"isActive": "maybe"}, {"description": "x" * 501}):
        r = await client.patch(f"/teams/{teams.team_id}", json=body, headers=teams.admin.headers)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_update_to_a_taken_name_is_409(client, teams):
    taken = await create_team(client, teams.admin)
    r = await client.patch(
        f"/teams/{teams.team_id}", json={"name": taken["name"]}, headers=teams.admin.headers
    )
    assert r.status_code == 409


async def test_deactivate_is_soft_audited_and_reversible(client, teams, runtime):
    r = await client.delete(f"/teams/{teams.team_id}", headers=teams.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"id": teams.team_id, "deleted": True}
    again = await client.delete(f"/teams/{teams.team_id}", headers=teams.admin.headers)
    assert again.status_code == 200

    r = await client.get(f"/teams/{teams.team_id}", headers=teams.supervisor.headers)
    assert (r.json()["data"]["isActive"], r.json()["data"]["memberCount"]) == (False, 1)

    r = await client.patch(f"/teams/{teams.team_id}", json={"isActive": True}, headers=teams.admin.headers)
    assert r.json()["data"]["isActive"] is True

    actions = [
        action for action, _ in await audit_actions(runtime, teams.org.id) if action.startswith("team.")
    ]
    assert actions[-2:] == ["team.deactivated", "team.reactivated"]
    assert [e.data["isActive"] for e in await events(runtime, teams.org.id) if e.type == "team.updated"][
        -2:
    ] == [
        False,
        True,
    ]


async def test_an_api_key_acts_as_the_organizations_admin(client, teams):
    r = await client.post("/api-keys", json={"name": "integration"}, headers=teams.admin.headers)
    key = r.json()["data"]["key"]
    r = await client.post("/teams", json={"name": team_name()}, headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
