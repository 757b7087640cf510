from cxinbox.models.identity import Plan, Role
from tests.fixtures.audit import audit_entries
from tests.fixtures.factories import unique_email
from tests.fixtures.people import error_code, invite_token, make_team


async def test_list_filters_and_pages(client, factory):
    org = await factory.org(plan=Plan.ENTERPRISE)
    created = []
    for _ in range(3):
        r = await client.post("/invitations", json={"email": unique_email()}, headers=org.admin.headers)
        created.append(r.json()["data"]["id"])
    await client.delete(f"/invitations/{created[0]}", headers=org.admin.headers)
    r = await client.get("/invitations", params={"limit": 1}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["meta"] == {"page": 1, "limit": 1, "total": 3, "totalPages": 3}
    assert r.json()["data"][0]["id"] == created[-1]  # newest first
    r = await client.get("/invitations", params={"status": "PENDING"}, headers=org.admin.headers)
    assert {i["id"] for i in r.json()["data"]} == set(created[1:])
    r = await client.get("/invitations", params={"status": "REVOKED"}, headers=org.admin.headers)
    assert [i["id"] for i in r.json()["data"]] == [created[0]]


async def test_list_rejections(client, factory):
    org = await factory.org()
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    r = await client.get("/invitations", params={"status": "LOST"}, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert (await client.get("/invitations")).status_code == 401
    assert (await client.get("/invitations", headers=supervisor.headers)).status_code == 403


async def test_create_rejections(client, factory, runtime):
    org, other = await factory.org(plan=Plan.ENTERPRISE), await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    email = unique_email()
    r = await client.post("/invitations", json={"email": "nope"}, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert (await client.post("/invitations", json={"email": email})).status_code == 401
    assert (
        await client.post("/invitations", json={"email": email}, headers=agent.headers)
    ).status_code == 403
    foreign_team = await make_team(runtime, other.id)
    r = await client.post(
        "/invitations", json={"email": email, "teamIds": [foreign_team]}, headers=org.admin.headers
    )
    assert r.status_code == 400
    r = await client.post("/invitations", json={"email": agent.email}, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "EMAIL_TAKEN"
    assert (
        await client.post("/invitations", json={"email": email}, headers=org.admin.headers)
    ).status_code == 201
    r = await client.post("/invitations", json={"email": email}, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "ALREADY_INVITED"
    [entry] = await audit_entries(runtime, org.id, "invitation.created")
    assert entry.details == {"email": email}


async def test_bulk_create(client, factory, smtp):
    org = await factory.org(plan=Plan.FREE)  # one seat left
    agent_email = org.admin.email
    first, second = unique_email(), unique_email()
    body = {
        "invitations": [{"email": first, "role": "SUPERVISOR"}, {"email": agent_email}, {"email": second}]
    }
    r = await client.post("/invitations/bulk", json=body, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    result = r.json()["data"]
    assert result["requested"] == 3 and result["succeeded"] == 1
    assert [i["email"] for i in result["invitations"]] == [first]
    assert {f["id"]: f["code"] for f in result["failed"]} == {
        agent_email: "EMAIL_TAKEN",
        second: "PLAN_LIMIT_REACHED",
    }
    assert await invite_token(smtp, first)


async def test_bulk_rejections(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.post("/invitations/bulk", json={"invitations": []}, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    r = await client.post("/invitations/bulk", json={"invitations": [{}]}, headers=org.admin.headers)
    assert r.status_code == 400
    body = {"invitations": [{"email": unique_email()}]}
    assert (await client.post("/invitations/bulk", json=body)).status_code == 401
    assert (await client.post("/invitations/bulk", json=body, headers=agent.headers)).status_code == 403


async def test_resend(client, factory, smtp):
    org, other = await factory.org(plan=Plan.ENTERPRISE), await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    email = unique_email()
    r = await client.post("/invitations", json={"email": email}, headers=org.admin.headers)
    invitation_id = r.json()["data"]["id"]
    first = await invite_token(smtp, email)
    r = await client.post(f"/invitations/{invitation_id}/resend", headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["sendCount"] == 2
    second = await invite_token(smtp, email, count=2)
    assert (await client.get(f"/invitations/token/{first}")).status_code == 404
    assert (await client.get(f"/invitations/token/{second}")).status_code == 200
    assert (await client.post(f"/invitations/{invitation_id}/resend")).status_code == 401
    assert (
        await client.post(f"/invitations/{invitation_id}/resend", headers=agent.headers)
    ).status_code == 403
    r = await client.post(f"/invitations/{invitation_id}/resend", headers=other.admin.headers)
    assert r.status_code == 404
    assert (await client.post("/invitations/missing/resend", headers=org.admin.headers)).status_code == 404


async def test_revoke(client, factory, smtp, runtime):
    org, other = await factory.org(plan=Plan.ENTERPRISE), await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    email = unique_email()
    r = await client.post("/invitations", json={"email": email}, headers=org.admin.headers)
    invitation_id = r.json()["data"]["id"]
    assert (await client.delete(f"/invitations/{invitation_id}")).status_code == 401
    assert (await client.delete(f"/invitations/{invitation_id}", headers=agent.headers)).status_code == 403
    assert (
        await client.delete(f"/invitations/{invitation_id}", headers=other.admin.headers)
    ).status_code == 404
    token = await invite_token(smtp, email)
    await client.post(f"/invitations/accept/{token}", json={"name": "In", "password": "long-enough-1"})
    r = await client.delete(f"/invitations/{invitation_id}", headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "INVITATION_ALREADY_ACCEPTED"
    assert not await audit_entries(runtime, org.id, "invitation.revoked")
