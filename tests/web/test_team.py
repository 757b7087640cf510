"""The team page: admins see the people and pending invitations and invite someone; nobody else
sees any of it."""

from __future__ import annotations

import pytest

from cxinbox.models.identity import Plan, Role
from tests.fixtures.factories import unique_email
from tests.fixtures.people import invite_token
from tests.web.helpers import browser, signed_in


async def test_an_admin_invites_someone_from_the_team_page(app, factory, smtp):
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
        assert r.status_code == 200 and f"Invitation sent to {email}." in r.text
        assert email in r.text.split("Pending invitations")[1] and "Supervisor" in r.text
        assert await invite_token(smtp, email)  # the mail links to the /invite/{token} page
        again = await site.post("/team/invitations", data={"csrf": token, "email": email, "role": "AGENT"})
        assert again.status_code == 409 and 'role="alert"' in again.text
        bad = await site.post("/team/invitations", data={"csrf": token, "email": "not-an-email"})
        assert bad.status_code == 400 and "Check the email address" in bad.text


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
    assert smtp.messages_to(email) == []
