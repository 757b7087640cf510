"""Team events on the realtime stream: an agent sees those of its own teams only."""

from __future__ import annotations

from cxinbox.auth.principal import Principal
from cxinbox.core.events import Event
from cxinbox.models.identity import Role
from cxinbox.realtime.visibility import predicate_for
from tests.teams.conftest import events


async def _visible_to(runtime, member, role: Role, organization_id: str):
    principal = Principal(role=role, organization_id=organization_id, user_id=member.id)
    async with runtime.unit_of_work() as session:
        visible = await predicate_for(session, principal)
    return [
        r.data["id"]
        for r in await events(runtime, organization_id)
        if r.type.startswith("team.")
        and visible(Event(r.organization_id, r.type, r.data, r.audience, r.occurred_at, r.seq).wire())
    ]


async def test_an_agent_sees_only_events_of_its_teams(client, teams, runtime):
    other_team = (await client.post("/teams", json={"name": "Elsewhere"}, headers=teams.admin.headers)).json()
    org = teams.org.id
    assert set(await _visible_to(runtime, teams.team_agent, Role.AGENT, org)) == {teams.team_id}
    assert await _visible_to(runtime, teams.agent, Role.AGENT, org) == []
    supervisor_sees = await _visible_to(runtime, teams.supervisor, Role.SUPERVISOR, org)
    assert {teams.team_id, other_team["data"]["id"]} <= set(supervisor_sees)
