"""The administration pages over HTTP: teams (create, members, hours), WhatsApp numbers (state,
health, alerts), API keys (shown once, revoked) and branding; each for the roles the API allows
its actions, and another organization's ids not found."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxinbox.models.identity import ApiKey, Role
from cxinbox.models.teams import Team, TeamMember, TeamSchedule
from cxinbox.models.whatsapp import AlertSeverity
from tests.fixtures.whatsapp import connect_number
from tests.web.helpers import browser, signed_in
from tests.whatsapp.test_alerts import seed

HOSTILE = '<img src=x onerror="alert(1)">'


async def test_an_admin_creates_a_team_adds_a_member_and_sets_its_hours(app, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        assert (await site.get("/teams")).status_code == 200
        r = await site.post("/teams", data={"csrf": token, "name": HOSTILE, "description": "First line"})
        assert (r.status_code, r.headers["location"]) == (303, "/teams?done=team_created")
        page = await site.get("/teams?done=team_created")
        assert "Team created." in page.text and HOSTILE not in page.text and "&lt;img" in page.text
        async with runtime.read_session() as session:
            team = await session.scalar(select(Team).where(Team.organization_id == org.id))
        assert team is not None
        again = await site.post("/teams", data={"csrf": token, "name": HOSTILE})
        assert again.status_code == 409 and 'role="alert"' in again.text
        assert (await site.post("/teams", data={"csrf": token, "name": ""})).status_code == 400

        detail = await site.get(f"/teams/{team.id}")
        assert detail.status_code == 200 and agent.email in detail.text  # offered as a member
        r = await site.post(
            f"/teams/{team.id}/members", data={"csrf": token, "user_id": agent.id, "role": "LEAD"}
        )
        assert r.headers["location"] == f"/teams/{team.id}?done=member_added"
        r = await site.post(
            f"/teams/{team.id}/schedule",
            data={"csrf": token, "timezone": "America/Mexico_City", "monday": "09:00-13:00, 14:00-18:00"},
        )
        assert r.headers["location"] == f"/teams/{team.id}?done=schedule_saved", r.text
        detail = await site.get(f"/teams/{team.id}")
        assert 'value="09:00-13:00, 14:00-18:00"' in detail.text and "Lead" in detail.text
        bad = await site.post(
            f"/teams/{team.id}/schedule",
            data={"csrf": token, "timezone": "Mars/Base", "monday": "25:00-26:00"},
        )
        assert bad.status_code == 400 and 'value="25:00-26:00"' in bad.text
        r = await site.post(f"/teams/{team.id}/members/{agent.id}/remove", data={"csrf": token})
        assert r.headers["location"] == f"/teams/{team.id}?done=member_removed"
    async with runtime.read_session() as session:
        schedule = await session.scalar(select(TeamSchedule).where(TeamSchedule.team_id == team.id))
        assert schedule is not None and schedule.timezone == "America/Mexico_City"
        members = (await session.execute(select(TeamMember).where(TeamMember.team_id == team.id))).all()
        assert members == []


async def test_numbers_health_and_alerts(app, factory, runtime, graph):
    org = await factory.org()
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    account = await connect_number(runtime, graph, org.id)
    [alert_id] = await seed(runtime, account, AlertSeverity.CRITICAL)
    async with browser(app) as site:
        token = await signed_in(site, supervisor)
        page = await site.get("/numbers")
        assert (
            page.status_code == 200
            and account.phone_number_id in page.text
            or account.display_phone_number in page.text
        )
        assert "Alert 0" in page.text and "Something happened" in page.text
        r = await site.post(f"/numbers/{account.id}/health", data={"csrf": token})
        assert r.status_code == 200 and 'role="status"' in r.text
        r = await site.post(f"/numbers/alerts/{alert_id}/acknowledge", data={"csrf": token})
        assert r.headers["location"] == "/numbers?done=acknowledged"
        assert "Marked as read." in (await site.get(r.headers["location"])).text
        r = await site.post("/numbers/alerts/acknowledge-all", data={"csrf": token})
        assert r.status_code == 303


async def test_an_api_key_is_shown_once_and_revoked(app, factory, runtime, client):
    org = await factory.org()
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        r = await site.post(
            "/api-keys", data={"csrf": token, "name": "CRM sync", "scopes": ["contacts:read", "bogus"]}
        )
        assert r.status_code == 400  # an unknown scope
        r = await site.post(
            "/api-keys", data={"csrf": token, "name": "CRM sync", "scopes": ["contacts:read"]}
        )
        assert r.status_code == 201 and "shown only this once" in r.text
        key = r.text.split('id="new-key" readonly value="')[1].split('"')[0]
        assert (await client.get("/contacts", headers={"X-API-Key": key})).status_code == 200
        page = await site.get("/api-keys")
        assert key not in page.text and "CRM sync" in page.text and "contacts:read" in page.text
        async with runtime.read_session() as session:
            stored = await session.scalar(select(ApiKey).where(ApiKey.organization_id == org.id))
        assert stored is not None
        r = await site.post(f"/api-keys/{stored.id}/revoke", data={"csrf": token})
        assert r.headers["location"] == "/api-keys?done=key_revoked"
        assert (await client.get("/contacts", headers={"X-API-Key": key})).status_code == 401


async def test_branding(app, factory):
    org = await factory.org()
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        data = {
            "csrf": token,
            "company_name": "Acme MX",
            "whatsapp_phone": "+52 55 1234 5678",
            "primary_color": "#112233",
        }
        r = await site.post("/branding", data=data)
        assert r.headers["location"] == "/branding?done=branding_saved"
        page = await site.get("/branding")
        assert 'value="Acme MX"' in page.text and 'value="#112233"' in page.text
        bad = await site.post("/branding", data={**data, "primary_color": "red"})
        assert bad.status_code == 400 and 'role="alert"' in bad.text


async def test_another_organizations_ids_are_not_found(app, factory, runtime, graph):
    other = await factory.org()
    their_account = await connect_number(runtime, graph, other.id)
    [their_alert] = await seed(runtime, their_account, AlertSeverity.WARNING)
    async with runtime.unit_of_work() as session:
        their_team = Team(organization_id=other.id, name="Theirs")
        session.add(their_team)
        await session.flush()
        their_team_id = their_team.id
    org = await factory.org()
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        assert (await site.get(f"/teams/{their_team_id}")).status_code == 404
        for path in (
            f"/teams/{their_team_id}/members",
            f"/teams/{their_team_id}/schedule",
            f"/numbers/{their_account.id}/health",
            f"/numbers/alerts/{their_alert}/acknowledge",
            "/api-keys/no-such-key/revoke",
        ):
            r = await site.post(path, data={"csrf": token, "user_id": org.admin.id, "timezone": "UTC"})
            assert r.status_code in (400, 404) and "Theirs" not in r.text, (path, r.status_code)
        assert "Alert 0" not in (await site.get("/numbers")).text


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.AGENT, set()), (Role.SUPERVISOR, {"/numbers"})],
)
async def test_the_pages_answer_403_to_the_roles_the_api_refuses(app, factory, role, allowed):
    org = await factory.org()
    member = await factory.member(org.id, role)
    async with browser(app) as site:
        token = await signed_in(site, member)
        inbox = await site.get("/inbox")
        for path in ("/team", "/teams", "/numbers", "/api-keys", "/branding"):
            r = await site.get(path)
            assert r.status_code == (200 if path in allowed else 403), (path, r.status_code)
            assert (f'href="{path}"' in inbox.text) == (path in allowed), path
        for path in ("/teams", "/api-keys", "/branding", "/numbers/alerts/acknowledge-all"):
            r = await site.post(path, data={"csrf": token, "name": "x"})
            may = path.startswith("/numbers") and "/numbers" in allowed
            assert r.status_code == (303 if may else 403), path
