from cxinbox.auth.refresh import start_session
from cxinbox.models.identity import Plan, Role, User
from cxinbox.users.service import released_email
from tests.fixtures.audit import audit_entries
from tests.fixtures.factories import PASSWORD, unique_email
from tests.fixtures.people import error_code, events_of, invite_token, make_team


async def test_list_pages_and_filters(client, factory):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agents = [await factory.member(org.id, Role.AGENT) for _ in range(3)]
    r = await client.get("/users", params={"limit": 2, "page": 2}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["meta"] == {"page": 2, "limit": 2, "total": 4, "totalPages": 2}
    r = await client.get("/users", params={"role": "AGENT"}, headers=org.admin.headers)
    assert {u["id"] for u in r.json()["data"]} == {a.id for a in agents}
    r = await client.get("/users", params={"search": agents[0].email.upper()}, headers=org.admin.headers)
    [found] = r.json()["data"]
    assert found["id"] == agents[0].id
    assert {
        "id",
        "email",
        "name",
        "role",
        "status",
        "isActive",
        "organizationId",
        "createdAt",
    } <= found.keys()
    assert found["teams"] == [] and found["avatarUrl"] is None


async def test_list_by_team(client, factory, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    team_id = await make_team(runtime, org.id)
    await client.patch(f"/users/{agent.id}", json={"teamIds": [team_id]}, headers=org.admin.headers)
    r = await client.get("/users", params={"teamId": team_id}, headers=org.admin.headers)
    assert [u["id"] for u in r.json()["data"]] == [agent.id]


async def test_agent_sees_active_users_only(client, factory):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    gone = await factory.member(org.id, Role.AGENT)
    r = await client.patch(f"/users/{gone.id}", json={"isActive": False}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    seen_by_agent = await client.get("/users", headers=agent.headers)
    assert gone.id not in {u["id"] for u in seen_by_agent.json()["data"]}
    seen_by_admin = await client.get("/users", params={"isActive": "false"}, headers=org.admin.headers)
    assert [u["id"] for u in seen_by_admin.json()["data"]] == [gone.id]


async def test_list_rejects_bad_input_and_anonymous(client, factory):
    org = await factory.org()
    r = await client.get("/users", params={"role": "BOSS"}, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert (await client.get("/users", params={"limit": 0}, headers=org.admin.headers)).status_code == 400
    assert (await client.get("/users")).status_code == 401


async def test_list_needs_an_organization(client, factory):
    operator = await factory.super_admin()
    assert (await client.get("/users", headers=operator.headers)).status_code == 403


async def test_create_user_sends_invitation(client, factory, smtp, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    team_id = await make_team(runtime, org.id)
    email = unique_email("new")
    body = {"email": email.upper(), "name": "New Person", "role": "SUPERVISOR", "teamIds": [team_id]}
    r = await client.post("/users", json=body, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    user = r.json()["data"]
    assert user["email"] == email and user["role"] == "SUPERVISOR" and user["isActive"] is True
    assert user["hasPassword"] is False and user["invitationPending"] is True
    assert [t["id"] for t in user["teams"]] == [team_id]
    assert await invite_token(smtp, email)
    assert [e["id"] for e in await events_of(runtime, org.id, "user.created")] == [user["id"]]
    # before accepting, the new user may sign in with a one-time code
    await client.post("/auth/request-code", json={"email": email})
    code = await smtp.latest_code(email, count=2)
    assert (await client.post("/auth/verify-code", json={"email": email, "code": code})).status_code == 200


async def test_create_user_rejections(client, factory):
    org = await factory.org(plan=Plan.ENTERPRISE)
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    good = {"email": unique_email(), "name": "N"}
    r = await client.post("/users", json={"email": "not-an-email", "name": "N"}, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    r = await client.post("/users", json={**good, "role": "SUPER_ADMIN"}, headers=org.admin.headers)
    assert r.status_code == 400
    assert (await client.post("/users", json=good)).status_code == 401
    assert (await client.post("/users", json=good, headers=supervisor.headers)).status_code == 403
    r = await client.post("/users", json={**good, "email": supervisor.email}, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "EMAIL_TAKEN"


async def test_create_user_with_another_organizations_team(client, factory, runtime):
    org, other = await factory.org(plan=Plan.ENTERPRISE), await factory.org()
    foreign_team = await make_team(runtime, other.id)
    body = {"email": unique_email(), "name": "N", "teamIds": [foreign_team]}
    r = await client.post("/users", json=body, headers=org.admin.headers)
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "teamIds"


async def test_seats_limit_at_the_boundary(client, factory):
    org = await factory.org(plan=Plan.FREE)  # 2 seats; the admin holds one
    r = await client.post("/users", json={"email": unique_email(), "name": "Two"}, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    second = r.json()["data"]["id"]
    r = await client.post(
        "/users", json={"email": unique_email(), "name": "Three"}, headers=org.admin.headers
    )
    assert r.status_code == 402 and error_code(r) == "PLAN_LIMIT_REACHED"
    r = await client.post("/invitations", json={"email": unique_email()}, headers=org.admin.headers)
    assert r.status_code == 402
    # deleting a user frees the seat; a pending invitation takes it
    assert (await client.delete(f"/users/{second}", headers=org.admin.headers)).status_code == 200
    r = await client.post("/invitations", json={"email": unique_email()}, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    r = await client.post("/users", json={"email": unique_email(), "name": "Four"}, headers=org.admin.headers)
    assert r.status_code == 402
    # reactivating would pass the limit too
    r = await client.post(
        "/users/bulk",
        json={"action": "activate", "selection": {"mode": "ids", "ids": [second]}},
        headers=org.admin.headers,
    )
    assert r.json()["data"]["failed"][0]["code"] == "NOT_FOUND"  # deleted users stay deleted


async def test_update_role_teams_and_name(client, factory, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    first, second = await make_team(runtime, org.id), await make_team(runtime, org.id)
    r = await client.patch(f"/users/{agent.id}", json={"teamIds": [first, second]}, headers=org.admin.headers)
    assert len(r.json()["data"]["teams"]) == 2
    r = await client.patch(
        f"/users/{agent.id}",
        json={"name": " Renamed ", "role": "SUPERVISOR", "teamIds": [second]},
        headers=org.admin.headers,
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["name"], data["role"], [t["id"] for t in data["teams"]]) == (
        "Renamed",
        "SUPERVISOR",
        [second],
    )
    [entry] = await audit_entries(runtime, org.id, "user.role_changed")
    assert entry.target_id == agent.id and entry.details == {"previous": "AGENT", "role": "SUPERVISOR"}
    assert entry.ip and entry.actor_user_id == org.admin.id
    assert (await events_of(runtime, org.id, "user.updated"))[-1]["role"] == "SUPERVISOR"
    # the new role takes effect at once
    assert (await client.get("/users", headers=agent.headers)).status_code == 200


async def test_deactivation_signs_the_user_out(client, factory, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.patch(f"/users/{agent.id}", json={"isActive": False}, headers=org.admin.headers)
    assert r.json()["data"]["isActive"] is False
    assert (await client.post("/auth/refresh", json={"refreshToken": agent.refresh_token})).status_code == 401
    assert (await client.get("/users", headers=agent.headers)).status_code == 401
    assert await audit_entries(runtime, org.id, "user.deactivated")
    r = await client.patch(f"/users/{agent.id}", json={"isActive": True}, headers=org.admin.headers)
    assert r.json()["data"]["isActive"] is True


async def test_update_rejections(client, factory):
    org, other = await factory.org(plan=Plan.ENTERPRISE), await factory.org()
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    url = f"/users/{supervisor.id}"
    r = await client.patch(url, json={"role": "OWNER"}, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert (await client.patch(url, json={"name": ""}, headers=org.admin.headers)).status_code == 400
    assert (await client.patch(url, json={"name": "X"})).status_code == 401
    assert (await client.patch(url, json={"name": "X"}, headers=supervisor.headers)).status_code == 403
    r = await client.patch(f"/users/{other.admin.id}", json={"name": "X"}, headers=org.admin.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    r = await client.patch(f"/users/{org.admin.id}", json={"role": "AGENT"}, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "CANNOT_MODIFY_SELF"


async def test_the_last_admin_stays(client, factory, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    operator = await factory.super_admin()
    async with runtime.unit_of_work() as session:
        inside = start_session(session, runtime, operator.user, acting_org=org.id).access_token
    r = await client.patch(
        f"/users/{org.admin.id}", json={"role": "AGENT"}, headers={"Authorization": f"Bearer {inside}"}
    )
    assert r.status_code == 409 and error_code(r) == "LAST_ADMIN"


async def test_soft_delete(client, factory, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    team_id = await make_team(runtime, org.id)
    await client.patch(f"/users/{agent.id}", json={"teamIds": [team_id]}, headers=org.admin.headers)
    r = await client.delete(f"/users/{agent.id}", headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"id": agent.id, "deleted": True}
    assert (await client.post("/auth/refresh", json={"refreshToken": agent.refresh_token})).status_code == 401
    r = await client.post("/auth/login", json={"email": agent.email, "password": PASSWORD})
    assert r.status_code == 401
    listed = await client.get("/users", headers=org.admin.headers)
    assert agent.id not in {u["id"] for u in listed.json()["data"]}
    r = await client.get("/users", params={"teamId": team_id}, headers=org.admin.headers)
    assert r.json()["data"] == []
    assert await events_of(runtime, org.id, "user.deleted") == [{"id": agent.id}]
    [entry] = await audit_entries(runtime, org.id, "user.deleted")
    assert entry.target_id == agent.id and entry.ip
    assert (await client.delete(f"/users/{agent.id}", headers=org.admin.headers)).status_code == 404


async def test_deleting_a_user_frees_their_email(client, factory, smtp, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.delete(f"/users/{agent.id}", headers=org.admin.headers)).status_code == 200
    async with runtime.unit_of_work() as session:
        assert (await session.get(User, agent.id)).email == released_email(agent.id)
    [entry] = await audit_entries(runtime, org.id, "user.deleted")
    assert entry.details == {"email": agent.email}

    r = await client.post("/users", json={"email": agent.email, "name": "Back"}, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    again = r.json()["data"]
    assert again["id"] != agent.id and again["email"] == agent.email
    listed = await client.get("/users", params={"search": agent.email}, headers=org.admin.headers)
    assert [u["id"] for u in listed.json()["data"]] == [again["id"]]
    # the address signs in as the new user; the deleted one stays out
    r = await client.post("/auth/login", json={"email": agent.email, "password": PASSWORD})
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"
    await client.post("/auth/request-code", json={"email": agent.email})
    code = await smtp.latest_code(agent.email, count=2)  # after the invitation mail
    r = await client.post("/auth/verify-code", json={"email": agent.email, "code": code})
    assert r.status_code == 200 and r.json()["data"]["user"]["id"] == again["id"]
    assert (await client.post("/auth/refresh", json={"refreshToken": agent.refresh_token})).status_code == 401
    # deleting the address's second user frees it again
    assert (await client.delete(f"/users/{again['id']}", headers=org.admin.headers)).status_code == 200
    r = await client.post("/users", json={"email": agent.email, "name": "Third"}, headers=org.admin.headers)
    assert r.status_code == 201, r.text


async def test_delete_rejections(client, factory):
    org, other = await factory.org(plan=Plan.ENTERPRISE), await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.delete(f"/users/{agent.id}")).status_code == 401
    assert (await client.delete(f"/users/{org.admin.id}", headers=agent.headers)).status_code == 403
    assert (await client.delete(f"/users/{other.admin.id}", headers=org.admin.headers)).status_code == 404
    r = await client.delete(f"/users/{org.admin.id}", headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "CANNOT_MODIFY_SELF"


async def test_resend_invite(client, factory, smtp):
    org, other = await factory.org(plan=Plan.ENTERPRISE), await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    email = unique_email()
    r = await client.post("/users", json={"email": email, "name": "N"}, headers=org.admin.headers)
    user_id = r.json()["data"]["id"]
    first = await invite_token(smtp, email)
    r = await client.post(f"/users/{user_id}/resend-invite", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    second = await invite_token(smtp, email, count=2)
    assert second != first
    assert (await client.get(f"/invitations/token/{first}")).status_code == 404
    assert (await client.get(f"/invitations/token/{second}")).status_code == 200
    assert (await client.post(f"/users/{user_id}/resend-invite")).status_code == 401
    assert (await client.post(f"/users/{user_id}/resend-invite", headers=agent.headers)).status_code == 403
    r = await client.post(f"/users/{other.admin.id}/resend-invite", headers=org.admin.headers)
    assert r.status_code == 404
    r = await client.post(f"/users/{agent.id}/resend-invite", headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "ALREADY_ACCEPTED"


async def test_presence_is_the_callers_own(client, factory, runtime):
    org, other = await factory.org(plan=Plan.ENTERPRISE), await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.patch(f"/users/{agent.id}/status", json={"status": "BUSY"}, headers=agent.headers)
    assert r.status_code == 200 and r.json()["data"]["status"] == "BUSY"
    assert (await events_of(runtime, org.id, "user.updated"))[-1]["status"] == "BUSY"
    r = await client.patch(f"/users/{agent.id}/status", json={"status": "SLEEPING"}, headers=agent.headers)
    assert r.status_code == 400
    assert (await client.patch(f"/users/{agent.id}/status", json={"status": "AWAY"})).status_code == 401
    r = await client.patch(f"/users/{org.admin.id}/status", json={"status": "AWAY"}, headers=agent.headers)
    assert r.status_code == 403
    r = await client.patch(f"/users/{other.admin.id}/status", json={"status": "AWAY"}, headers=agent.headers)
    assert r.status_code == 404


async def test_search_treats_wildcards_literally(client, factory):
    org = await factory.org(plan=Plan.ENTERPRISE)
    await factory.member(org.id, Role.AGENT)
    r = await client.get("/users", params={"search": "%"}, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == []


async def test_deleting_a_user_releases_their_work(client, factory, monkeypatch):
    from cxinbox.users import hooks

    released = []

    async def release(_session, tenant, user_id):
        released.append((tenant.organization_id, user_id))

    monkeypatch.setattr(hooks, "_HOOKS", [])
    hooks.on_user_leaving(release)
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent, other = await factory.member(org.id, Role.AGENT), await factory.member(org.id, Role.AGENT)
    await client.delete(f"/users/{agent.id}", headers=org.admin.headers)
    await client.patch(f"/users/{other.id}", json={"isActive": False}, headers=org.admin.headers)
    assert released == [(org.id, agent.id), (org.id, other.id)]
