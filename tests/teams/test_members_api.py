"""Adding members, changing their role in the team, removing them."""

from __future__ import annotations

from cxinbox.models.identity import Role
from tests.teams.conftest import audit_actions, events


async def test_add_a_member_with_a_role(client, teams, runtime):
    supervisor = teams.supervisor
    r = await client.post(
        f"/teams/{teams.team_id}/members",
        json={"userId": supervisor.id, "role": "LEAD"},
        headers=teams.admin.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"] | {"joinedAt": None} == {
        "userId": supervisor.id,
        "name": supervisor.user.name,
        "email": supervisor.email,
        "role": "LEAD",
        "userRole": "SUPERVISOR",
        "joinedAt": None,
    }
    detail = (await client.get(f"/teams/{teams.team_id}", headers=teams.admin.headers)).json()["data"]
    assert {m["userId"]: m["role"] for m in detail["members"]} == {
        teams.team_agent.id: "MEMBER",
        supervisor.id: "LEAD",
    }
    last = (await events(runtime, teams.org.id))[-1]
    assert (last.type, last.data["memberCount"]) == ("team.updated", 2)
    assert last.audience == {"teamId": teams.team_id, "memberIds": [m["userId"] for m in detail["members"]]}


async def test_add_validates_the_body(client, teams):
    for body in ({}, {"userId": ""}, {"userId": teams.agent.id, "role": "BOSS"}):
        r = await client.post(f"/teams/{teams.team_id}/members", json=body, headers=teams.admin.headers)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_adding_twice_is_409(client, teams):
    r = await client.post(
        f"/teams/{teams.team_id}/members", json={"userId": teams.team_agent.id}, headers=teams.admin.headers
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CONFLICT"


async def test_an_unknown_or_super_admin_user_is_404(client, factory, teams):
    super_admin = await factory.super_admin()
    for user_id in ("no-such-user", super_admin.id):
        r = await client.post(
            f"/teams/{teams.team_id}/members", json={"userId": user_id}, headers=teams.admin.headers
        )
        assert r.status_code == 404, r.text


async def test_change_a_members_role_is_audited(client, teams, runtime):
    path = f"/teams/{teams.team_id}/members/{teams.team_agent.id}"
    r = await client.patch(path, json={"role": "LEAD"}, headers=teams.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["role"] == "LEAD"
    same = await client.patch(path, json={"role": "LEAD"}, headers=teams.admin.headers)
    assert same.status_code == 200

    changes = [
        d for action, d in await audit_actions(runtime, teams.org.id) if action == "team.member_role_changed"
    ]
    assert changes == [{"userId": teams.team_agent.id, "from": "MEMBER", "to": "LEAD"}]


async def test_change_role_validates_the_body(client, teams):
    path = f"/teams/{teams.team_id}/members/{teams.team_agent.id}"
    for body in ({}, {"role": "lead"}, {"role": None}):
        r = await client.patch(path, json=body, headers=teams.admin.headers)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["details"][0]["field"] == "role"


async def test_change_role_of_a_user_outside_the_team_is_404(client, teams):
    r = await client.patch(
        f"/teams/{teams.team_id}/members/{teams.agent.id}", json={"role": "LEAD"}, headers=teams.admin.headers
    )
    assert r.status_code == 404


async def test_remove_a_member(client, factory, teams, runtime):
    lead = await factory.member(teams.org.id, Role.AGENT)
    await client.post(
        f"/teams/{teams.team_id}/members", json={"userId": lead.id}, headers=teams.admin.headers
    )
    r = await client.delete(f"/teams/{teams.team_id}/members/{lead.id}", headers=teams.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"id": lead.id, "deleted": True}
    detail = (await client.get(f"/teams/{teams.team_id}", headers=teams.admin.headers)).json()["data"]
    assert [m["userId"] for m in detail["members"]] == [teams.team_agent.id]
    again = await client.delete(f"/teams/{teams.team_id}/members/{lead.id}", headers=teams.admin.headers)
    assert again.status_code == 404
    assert "team.member_removed" in [a for a, _ in await audit_actions(runtime, teams.org.id)]


async def test_a_removed_member_no_longer_reads_the_team(client, teams):
    agent = teams.team_agent
    await client.delete(f"/teams/{teams.team_id}/members/{agent.id}", headers=teams.admin.headers)
    r = await client.get(f"/teams/{teams.team_id}", headers=agent.headers)
    assert r.status_code == 403
