"""Who may do what: 401 without a token, 403 outside an organization, 404 for another
organization's conversation and for one outside an agent's view, on every endpoint; and the
visibility rule across list, counts, detail and the event stream."""

from __future__ import annotations

import asyncio

import pytest

from cxinbox.models.identity import Role
from tests.conversations.helpers import Stream, call, endpoints, read_stream
from tests.fixtures.people import error_code

ENDPOINT_NAMES = [f"{m} {p.replace('/conversations/X', '')}" for m, p, _ in endpoints("X", "U")]


@pytest.mark.parametrize("index", range(len(ENDPOINT_NAMES)), ids=ENDPOINT_NAMES)
async def test_every_endpoint_needs_a_token_and_an_organization(inbox, client, factory, index):
    conversation = await inbox.customer_writes()
    method, path, body = endpoints(conversation, inbox.admin.id)[index]
    r = await call(client, method, path, body, {})
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"
    platform = await factory.super_admin()
    r = await call(client, method, path, body, platform.headers)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"


@pytest.mark.parametrize("index", range(len(ENDPOINT_NAMES)), ids=ENDPOINT_NAMES)
async def test_another_organizations_conversation_is_not_found(inbox, client, factory, index):
    conversation = await inbox.customer_writes()
    stranger = await factory.org()
    method, path, body = endpoints(conversation, stranger.admin.id)[index]
    r = await call(client, method, path, body, stranger.admin.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND", r.text


@pytest.mark.parametrize("index", range(len(ENDPOINT_NAMES)), ids=ENDPOINT_NAMES)
async def test_a_conversation_outside_the_agents_view_is_not_found(inbox, client, index):
    elsewhere = await inbox.customer_writes()  # in no team: not in the agent's queue
    method, path, body = endpoints(elsewhere, inbox.agent.id)[index]
    r = await call(client, method, path, body, inbox.agent.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND", r.text


async def test_a_colleagues_conversation_answers_already_assigned_to_a_claim_and_404_otherwise(inbox, client):
    taken = await inbox.in_team()
    r = await client.post(f"/conversations/{taken}/takeover", headers=inbox.other_agent.headers)
    assert r.status_code == 200
    r = await client.post(f"/conversations/{taken}/takeover", headers=inbox.agent.headers)
    assert r.status_code == 409 and error_code(r) == "ALREADY_ASSIGNED"
    assert r.json()["error"]["details"] == {"assignedToId": inbox.other_agent.id}
    r = await client.post(
        f"/conversations/{taken}/assign", json={"userId": inbox.agent.id}, headers=inbox.agent.headers
    )
    assert r.status_code == 409 and error_code(r) == "ALREADY_ASSIGNED"
    for method, path, body in endpoints(taken, inbox.agent.id):
        if path.endswith(("/takeover", "/assign")):
            continue
        r = await call(client, method, path, body, inbox.agent.headers)
        assert r.status_code == 404, (method, path)
    r = await client.post(f"/conversations/{taken}/takeover", headers=inbox.outsider.headers)
    assert r.status_code == 404  # not in the outsider's teams: its existence is not revealed


async def _views(inbox, client):
    """Conversations of every kind the rule distinguishes."""
    mine = await inbox.in_team("mine")
    queue = await inbox.in_team("queue")
    colleagues = await inbox.in_team("colleague's")
    elsewhere = await inbox.customer_writes("no team")
    outsiders = await inbox.customer_writes("outsider's")
    for conversation, member in (
        (mine, inbox.agent),
        (colleagues, inbox.other_agent),
        (outsiders, inbox.outsider),
    ):
        r = await client.post(
            f"/conversations/{conversation}/assign", json={"userId": member.id}, headers=inbox.admin.headers
        )
        assert r.status_code == 200
    return mine, queue, colleagues, elsewhere, outsiders


async def test_list_counts_and_detail_follow_the_visibility_rule(inbox, client):
    mine, queue, colleagues, elsewhere, outsiders = await _views(inbox, client)
    every = {mine, queue, colleagues, elsewhere, outsiders}
    seen = [
        (inbox.agent, {mine, queue}),
        (inbox.other_agent, {colleagues, queue}),
        (inbox.outsider, {outsiders}),
        (inbox.supervisor, every),
        (inbox.admin, every),
    ]
    for member, visible in seen:
        r = await client.get("/conversations", headers=member.headers)
        assert {c["id"] for c in r.json()["data"]} == visible, member.user.name
        r = await client.get("/conversations/counts", headers=member.headers)
        assert r.json()["data"]["all"] == len(visible), member.user.name
        for conversation in every:
            r = await client.get(f"/conversations/{conversation}", headers=member.headers)
            assert r.status_code == (200 if conversation in visible else 404), member.user.name


async def test_a_deactivated_team_leaves_the_agents_view(inbox, client, runtime):
    from cxinbox.models.teams import Team

    queue = await inbox.in_team()
    async with runtime.unit_of_work() as session:
        (await session.get_one(Team, inbox.team_id)).is_active = False
    r = await client.get(f"/conversations/{queue}", headers=inbox.agent.headers)
    assert r.status_code == 404


async def test_the_event_stream_follows_the_visibility_rule(inbox, client, live_server):
    agent, outsider, supervisor = Stream(), Stream(), Stream()
    readers = [
        asyncio.create_task(read_stream(live_server, member.headers, stream, until="tag.created"))
        for member, stream in (
            (inbox.agent, agent),
            (inbox.outsider, outsider),
            (inbox.supervisor, supervisor),
        )
    ]
    queue = await inbox.in_team("queue")
    elsewhere = await inbox.customer_writes("no team")
    mine = await inbox.customer_writes("the agent's")
    await client.post(
        f"/conversations/{mine}/assign", json={"userId": inbox.agent.id}, headers=inbox.admin.headers
    )
    # moved to someone else by a supervisor: the agent still gets that move, and nothing after it
    await client.patch(
        f"/conversations/{mine}", json={"assignedToId": inbox.outsider.id}, headers=inbox.supervisor.headers
    )
    await client.post(f"/conversations/{mine}/read", headers=inbox.admin.headers)
    # a change of a queue conversation, then it goes to a colleague: the agent sees that last move
    await client.post(f"/conversations/{queue}/read", headers=inbox.admin.headers)
    r = await client.post(
        f"/conversations/{queue}/assign", json={"userId": inbox.other_agent.id}, headers=inbox.admin.headers
    )
    assert r.status_code == 200
    await client.patch(f"/conversations/{queue}", json={"priority": "HIGH"}, headers=inbox.admin.headers)
    await client.post("/tags", json={"name": "end of test"}, headers=inbox.admin.headers)
    await asyncio.wait_for(asyncio.gather(*readers), timeout=30)

    # the webhook made the queue conversation before the test put it in the team: only its
    # conversation.updated events after that reach the agent (the read, then the assignment away)
    assert agent.types_for(queue) == ["conversation.updated", "conversation.updated"]
    last = [e for e in agent.events if e["data"]["data"].get("id") == queue][-1]["data"]["data"]
    assert last["assignedToId"] == inbox.other_agent.id
    assert agent.types_for(elsewhere) == []
    assert agent.types_for(mine) == ["conversation.updated", "conversation.updated"]
    moved_away = [e for e in agent.events if e["data"]["data"].get("id") == mine][-1]["data"]["data"]
    assert moved_away["assignedToId"] == inbox.outsider.id
    assert outsider.types_for(mine) == ["conversation.updated", "conversation.updated"]  # moved in, read
    assert outsider.types_for(queue) == [] and outsider.types_for(elsewhere) == []
    assert supervisor.types_for(queue) == ["conversation.created"] + ["conversation.updated"] * 3
    assert supervisor.types_for(elsewhere) == ["conversation.created"]


async def test_agents_cannot_move_conversations_between_teams(inbox, client, factory):
    mine = await inbox.in_team()
    await client.post(f"/conversations/{mine}/takeover", headers=inbox.agent.headers)
    r = await client.patch(f"/conversations/{mine}", json={"teamId": None}, headers=inbox.agent.headers)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    supervisor = await factory.member(inbox.org.id, Role.SUPERVISOR)
    r = await client.patch(f"/conversations/{mine}", json={"teamId": None}, headers=supervisor.headers)
    assert r.status_code == 200 and r.json()["data"]["teamId"] is None
