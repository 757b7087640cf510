"""Every page of the console, for every role: it answers (2xx, a redirect, or 403 for a role the
API refuses; 401/404 where the page says so), never a server error, and an administration page
never shows a role it refuses anything of it; another organization's ids are not found. A new page
is listed here or this test fails."""

from __future__ import annotations

import pytest

from cxinbox.console.places import PLACES
from cxinbox.console.router import ROUTERS
from cxinbox.models.campaigns import Campaign, CampaignStatus
from cxinbox.models.identity import Role
from cxinbox.models.teams import Team
from tests.fixtures.sending import make_thread
from tests.web.helpers import browser, signed_in

#: the address each page is opened at ({conversation} and {team} are filled in)
PAGES = {
    "/": "/",
    "/sign-in": "/sign-in",
    "/sign-in/code": "/sign-in/code",
    "/invite/{token}": "/invite/no-such-token",
    "/stream": "/stream",
    "/inbox": "/inbox",
    "/inbox/list": "/inbox/list",
    "/inbox/row/{conversation_id}": "/inbox/row/{conversation}",
    "/conversations/{id}": "/conversations/{conversation}",
    "/conversations/{id}/{part}": "/conversations/{conversation}/head",
    "/conversations/{id}/customer-data": "/conversations/{conversation}/customer-data",
    "/conversations/{id}/quick-replies": "/conversations/{conversation}/quick-replies?text=/",
    "/team": "/team",
    "/teams": "/teams",
    "/teams/{id}": "/teams/{team}",
    "/numbers": "/numbers",
    "/api-keys": "/api-keys",
    "/branding": "/branding",
    "/bot": "/bot",
    "/knowledge": "/knowledge",
    "/routing": "/routing",
    "/templates": "/templates",
    "/campaigns": "/campaigns",
    "/campaigns/{id}": "/campaigns/{campaign}",
    "/campaigns/{id}/progress": "/campaigns/{campaign}/progress",
    "/analytics": "/analytics",
    "/billing": "/billing",
}
#: pages whose answer is fixed whoever asks
FIXED = {"/invite/{token}": 404}
#: the place a page under another place's path belongs to
UNDER = {"/campaigns/{id}/progress": "/campaigns"}
#: pages about one record: another organization's is not found
OWNED = {
    "/conversations/{id}": "/conversations/{conversation}",
    "/conversations/{id}/customer-data": "/conversations/{conversation}/customer-data",
    "/teams/{id}": "/teams/{team}",
    "/campaigns/{id}": "/campaigns/{campaign}",
    "/campaigns/{id}/progress": "/campaigns/{campaign}/progress",
}


def test_every_console_page_is_listed():
    gets = {
        route.path
        for router in ROUTERS
        for route in router.routes
        if "GET" in getattr(route, "methods", ()) and not route.path.startswith("/static/")
    }
    assert gets == set(PAGES)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.SUPER_ADMIN])
async def test_every_page_answers_every_role_without_a_server_error(app, runtime, graph, factory, role):
    org = await factory.org()
    member = (
        await factory.super_admin()
        if role == Role.SUPER_ADMIN
        else org.admin
        if role == Role.ADMIN
        else await factory.member(org.id, role)
    )
    thread = await make_thread(runtime, graph, org, assigned_to_id=member.id if role == Role.AGENT else None)
    ids = await _records(runtime, thread)
    places = {place.path: place for place in PLACES}
    async with browser(app) as site:
        await signed_in(site, member)
        for pattern, address in PAGES.items():
            r = await site.get(address.format(**ids))
            assert r.status_code < 500, (address, r.status_code, r.text)
            place = places.get(UNDER.get(pattern, pattern)) or places.get(pattern.removesuffix("/{id}"))
            if pattern in FIXED:
                expected = {FIXED[pattern]}
            elif role == Role.SUPER_ADMIN:  # outside any organization
                expected = {200, 303, 307, 401, 404}
            elif place is not None and role not in place.roles:
                expected = {403}
            else:
                expected = {200, 303, 307}
            assert r.status_code in expected, (address, r.status_code)
            if r.status_code == 403:
                assert org.admin.email not in r.text and "Support" not in r.text, address


async def _records(runtime, thread) -> dict[str, str]:
    """A conversation, a team and a campaign of the thread's organization, by the pages' names."""
    async with runtime.unit_of_work() as session:
        team = Team(organization_id=thread.org.id, name="Support")
        campaign = Campaign(
            organization_id=thread.org.id,
            name="Support campaign",
            whatsapp_account_id=thread.account.id,
            language="es_MX",
            status=CampaignStatus.PAUSED,
        )
        session.add_all([team, campaign])
        await session.flush()
        return {"conversation": thread.id, "team": team.id, "campaign": campaign.id}


async def test_another_organizations_records_are_not_found(app, runtime, graph, factory):
    org, other = await factory.org(), await factory.org()
    theirs = await _records(runtime, await make_thread(runtime, graph, other))
    async with browser(app) as site:
        await signed_in(site, org.admin)
        for address in OWNED.values():
            r = await site.get(address.format(**theirs))
            assert r.status_code == 404 and "Support" not in r.text, (address, r.status_code)
