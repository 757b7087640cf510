"""Every page of the console, for every role: it answers (2xx, a redirect, or 403 for a role the
API refuses; 401/404 where the page says so), never a server error, and an administration page
never shows a role it refuses anything of it. A new page is listed here or this test fails."""

from __future__ import annotations

import pytest

from cxinbox.console.places import PLACES
from cxinbox.console.router import ROUTERS
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
    "/conversations/{id}": "/conversations/{conversation}",
    "/conversations/{id}/{part}": "/conversations/{conversation}/head",
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
}
#: pages whose answer is fixed whoever asks
FIXED = {"/invite/{token}": 404}


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
    async with runtime.unit_of_work() as session:
        team = Team(organization_id=org.id, name="Support")
        session.add(team)
        await session.flush()
        team_id = team.id
    places = {place.path: place for place in PLACES}
    async with browser(app) as site:
        await signed_in(site, member)
        for pattern, address in PAGES.items():
            r = await site.get(address.format(conversation=thread.id, team=team_id))
            assert r.status_code < 500, (address, r.status_code, r.text)
            place = places.get(pattern) or places.get(pattern.removesuffix("/{id}"))
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
