"""The invitation flow end to end, through the real SMTP server."""

from datetime import timedelta

from sqlalchemy import update

from cxinbox.core.clock import utcnow
from cxinbox.models.identity import Plan, Role
from cxinbox.models.invitations import Invitation
from tests.fixtures.factories import unique_email
from tests.fixtures.people import error_code, invite_token, make_team

NEW_PASSWORD = "a-brand-new-password"


async def _invite(client, org, **body):
    email = unique_email("invitee")
    r = await client.post("/invitations", json={"email": email, **body}, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    return email, r.json()["data"]


async def test_invite_mail_lookup_accept_login(client, factory, smtp, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    team_id = await make_team(runtime, org.id)
    email, invitation = await _invite(client, org, role="SUPERVISOR", teamIds=[team_id])
    assert invitation["status"] == "PENDING" and invitation["invitedBy"]["id"] == org.admin.id
    token = await invite_token(smtp, email)

    r = await client.get(f"/invitations/token/{token}")
    assert r.status_code == 200, r.text
    public = r.json()["data"]
    assert (public["email"], public["role"], public["organization"]["id"]) == (email, "SUPERVISOR", org.id)

    r = await client.post(f"/invitations/accept/{token}", json={"name": "Ines", "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    bundle = r.json()["data"]
    assert bundle["accessToken"] and bundle["refreshToken"] and bundle["expiresIn"] > 0
    assert bundle["user"]["email"] == email and bundle["user"]["organizationId"] == org.id
    me = await client.get("/profile", headers={"Authorization": f"Bearer {bundle['accessToken']}"})
    assert me.json()["data"]["role"] == "SUPERVISOR"
    assert [t["id"] for t in me.json()["data"]["teams"]] == [team_id]

    r = await client.post("/auth/login", json={"email": email, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text

    again = await client.post(f"/invitations/accept/{token}", json={"name": "Eve", "password": NEW_PASSWORD})
    assert again.status_code == 410 and error_code(again) == "INVITATION_ALREADY_ACCEPTED"
    listed = await client.get("/invitations", params={"status": "ACCEPTED"}, headers=org.admin.headers)
    assert [i["id"] for i in listed.json()["data"]] == [invitation["id"]]


async def test_user_created_by_admin_accepts(client, factory, smtp):
    org = await factory.org(plan=Plan.ENTERPRISE)
    email = unique_email()
    r = await client.post("/users", json={"email": email, "name": "Set By Admin"}, headers=org.admin.headers)
    user_id = r.json()["data"]["id"]
    token = await invite_token(smtp, email)
    r = await client.post(f"/invitations/accept/{token}", json={"name": "Own Name", "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["user"]["id"] == user_id and r.json()["data"]["user"]["name"] == "Own Name"
    assert (
        await client.post("/auth/login", json={"email": email, "password": NEW_PASSWORD})
    ).status_code == 200


async def test_a_deleted_user_is_invited_again_as_a_new_user(client, factory, smtp):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.post(
        "/users/bulk",
        json={"action": "delete", "selection": {"mode": "ids", "ids": [agent.id]}},
        headers=org.admin.headers,
    )
    assert r.status_code == 200 and r.json()["data"]["failed"] == [], r.text
    r = await client.post("/invitations", json={"email": agent.email}, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    token = await invite_token(smtp, agent.email)
    r = await client.post(f"/invitations/accept/{token}", json={"name": "Back", "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    returned = r.json()["data"]["user"]
    assert returned["id"] != agent.id and returned["email"] == agent.email
    r = await client.post("/auth/login", json={"email": agent.email, "password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["data"]["user"]["id"] == returned["id"]


async def test_expired_link(client, factory, smtp, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    email, invitation = await _invite(client, org)
    token = await invite_token(smtp, email)
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(Invitation)
            .where(Invitation.id == invitation["id"])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    r = await client.get(f"/invitations/token/{token}")
    assert r.status_code == 410 and error_code(r) == "INVITATION_EXPIRED"
    r = await client.post(f"/invitations/accept/{token}", json={"name": "Late", "password": NEW_PASSWORD})
    assert r.status_code == 410 and error_code(r) == "INVITATION_EXPIRED"
    # a resend revives it with a new link
    r = await client.post(f"/invitations/{invitation['id']}/resend", headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["status"] == "PENDING"
    fresh = await invite_token(smtp, email, count=2)
    assert (await client.get(f"/invitations/token/{fresh}")).status_code == 200


async def test_revoked_link(client, factory, smtp):
    org = await factory.org(plan=Plan.ENTERPRISE)
    email, invitation = await _invite(client, org)
    token = await invite_token(smtp, email)
    r = await client.delete(f"/invitations/{invitation['id']}", headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"id": invitation["id"], "deleted": True}
    r = await client.get(f"/invitations/token/{token}")
    assert r.status_code == 410 and error_code(r) == "INVITATION_REVOKED"
    r = await client.post(f"/invitations/accept/{token}", json={"name": "No", "password": NEW_PASSWORD})
    assert r.status_code == 410 and error_code(r) == "INVITATION_REVOKED"
    r = await client.post(f"/invitations/{invitation['id']}/resend", headers=org.admin.headers)
    assert r.status_code == 409


async def test_unknown_token_and_bad_body(client, factory, smtp):
    assert (await client.get("/invitations/token/not-a-token")).status_code == 404
    r = await client.post("/invitations/accept/not-a-token", json={"name": "X", "password": NEW_PASSWORD})
    assert r.status_code == 404
    org = await factory.org(plan=Plan.ENTERPRISE)
    email, _ = await _invite(client, org)
    token = await invite_token(smtp, email)
    r = await client.post(f"/invitations/accept/{token}", json={"name": "X", "password": "short"})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    r = await client.post(f"/invitations/accept/{token}", json={"password": NEW_PASSWORD})
    assert r.status_code == 400
    # the failed attempts did not spend the link
    r = await client.post(f"/invitations/accept/{token}", json={"name": "X", "password": NEW_PASSWORD})
    assert r.status_code == 200
