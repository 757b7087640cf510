"""The team page: admins see the people and pending invitations, invite someone, change a role,
deactivate and reactivate, resend and revoke invitations; nobody else sees any of it, and another
organization's ids are not found."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxinbox.models.identity import Plan, Role, User
from cxinbox.models.invitations import Invitation
from tests.fixtures.factories import unique_email
from tests.fixtures.people import invite_token
from tests.web.helpers import browser, signed_in


async def test_an_admin_manages_people_and_invitations(app, factory, smtp, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    email = unique_email("invitee")
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        assert 'href="/team"' in (await site.get("/inbox")).text
        page = await site.get("/team")
        assert page.status_code == 200 and agent.email in page.text and "No pending invitations." in page.text
        r = await site.post(
            "/team/invitations", data={"csrf": token, "email": email, "name": "Bo Chen", "role": "SUPERVISOR"}
        )
        assert (r.status_code, r.headers["location"]) == (303, "/team?done=invited")
        page = await site.get(r.headers["location"])
        assert "Invitation sent." in page.text
        assert email in page.text.split("Pending invitations")[1] and "Supervisor" in page.text
        assert await invite_token(smtp, email)  # the mail links to the /invite/{token} page
        again = await site.post("/team/invitations", data={"csrf": token, "email": email, "role": "AGENT"})
        assert again.status_code == 409 and 'role="alert"' in again.text
        bad = await site.post("/team/invitations", data={"csrf": token, "email": "not-an-email"})
        assert bad.status_code == 400 and "Check the email address" in bad.text

        async with runtime.read_session() as session:
            invitation = await session.scalar(select(Invitation).where(Invitation.email == email))
            assert invitation is not None
        r = await site.post(f"/team/invitations/{invitation.id}/resend", data={"csrf": token})
        assert r.headers["location"] == "/team?done=resent"
        assert len(await smtp.wait_for(email, count=2)) == 2
        r = await site.post(f"/team/invitations/{invitation.id}/revoke", data={"csrf": token})
        assert r.headers["location"] == "/team?done=revoked"
        assert email not in (await site.get("/team")).text.split("Pending invitations")[1]

        r = await site.post(f"/team/users/{agent.id}/role", data={"csrf": token, "role": "SUPERVISOR"})
        assert r.headers["location"] == "/team?done=role_changed"
        bad_role = await site.post(
            f"/team/users/{agent.id}/role", data={"csrf": token, "role": "SUPER_ADMIN"}
        )
        assert bad_role.status_code == 400
        r = await site.post(f"/team/users/{agent.id}/active", data={"csrf": token, "active": "false"})
        assert r.headers["location"] == "/team?done=deactivated"
        async with runtime.read_session() as session:
            user = await session.get(User, agent.id)
            assert user is not None and (user.role, user.is_active) == (Role.SUPERVISOR, False)
        r = await site.post(f"/team/users/{agent.id}/active", data={"csrf": token, "active": "true"})
        assert r.headers["location"] == "/team?done=reactivated"
        # a link cannot make the page say anything but its own words
        assert "<b>" not in (await site.get("/team?done=<b>x</b>")).text


async def test_another_organizations_people_are_not_found(app, factory, runtime):
    other = await factory.org()
    stranger = await factory.member(other.id, Role.AGENT)
    org = await factory.org()
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        for path, data in (
            (f"/team/users/{stranger.id}/role", {"role": "ADMIN"}),
            (f"/team/users/{stranger.id}/active", {"active": "false"}),
            ("/team/invitations/no-such-id/resend", {}),
            ("/team/invitations/no-such-id/revoke", {}),
        ):
            r = await site.post(path, data={"csrf": token, **data})
            assert r.status_code == 404 and stranger.email not in r.text, path
    async with runtime.read_session() as session:
        user = await session.get(User, stranger.id)
        assert user is not None and (user.role, user.is_active) == (Role.AGENT, True)


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AGENT])
async def test_the_team_page_is_for_admins_only(app, factory, smtp, role):
    org = await factory.org()
    member = await factory.member(org.id, role)
    async with browser(app) as site:
        token = await signed_in(site, member)
        assert 'href="/team"' not in (await site.get("/inbox")).text
        page = await site.get("/team")
        assert page.status_code == 403 and org.admin.email not in page.text
        email = unique_email("nope")
        r = await site.post("/team/invitations", data={"csrf": token, "email": email, "role": "ADMIN"})
        assert r.status_code == 403
        r = await site.post(f"/team/users/{org.admin.id}/active", data={"csrf": token, "active": "false"})
        assert r.status_code == 403
    assert smtp.messages_to(email) == []
