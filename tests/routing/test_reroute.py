"""Routing existing conversations again: ``re-route`` one, ``run-now`` over many (with ``dryRun``)."""

from __future__ import annotations

from tests.fixtures.events import stored_events
from tests.routing.conftest import cond

ANYTHING = [cond("origin", "equals", "INBOUND")]


async def detail(client, routing, conversation_id: str) -> dict:
    r = await client.get(f"/conversations/{conversation_id}", headers=routing.admin.headers)
    return r.json()["data"]


async def test_reroute_moves_the_team_and_releases_an_assignee_who_is_not_a_member(client, routing, runtime):
    inbox, headers = routing.inbox, routing.admin.headers
    conversation_id = await inbox.customer_writes("hello")
    r = await client.post(
        f"/conversations/{conversation_id}/assign", json={"userId": inbox.agent.id}, headers=headers
    )
    assert r.json()["data"]["status"] == "HUMAN_HANDLING"
    await routing.rule(ANYTHING, team_id=routing.sales_id)
    r = await client.post(f"/conversations/{conversation_id}/re-route", headers=inbox.supervisor.headers)
    assert r.status_code == 200, r.text
    moved = r.json()["data"]
    assert (moved["teamId"], moved["assignedTo"], moved["status"]) == (routing.sales_id, None, "OPEN")
    entries = [(e["kind"], e["reason"]) for e in (await detail(client, routing, conversation_id))["timeline"]]
    assert ("TEAM", "ROUTING") in entries and ("ASSIGNEE", "ROUTING") in entries
    updates = [
        e
        for e in await stored_events(runtime, inbox.org.id)
        if e.type == "conversation.updated" and e.data["id"] == conversation_id
    ]
    assert updates[-1].data["teamId"] == routing.sales_id
    assert updates[-1].audience["previousAssignedToId"] == inbox.agent.id
    # routed again with nothing changed: no new entry, no event
    count = len(await stored_events(runtime, inbox.org.id))
    r = await client.post(f"/conversations/{conversation_id}/re-route", headers=headers)
    assert r.status_code == 200
    assert len(await stored_events(runtime, inbox.org.id)) == count


async def test_an_assignee_who_is_a_member_of_the_new_team_stays(client, routing):
    inbox, headers = routing.inbox, routing.admin.headers
    conversation_id = await inbox.customer_writes("hello")
    await client.post(
        f"/conversations/{conversation_id}/assign", json={"userId": inbox.agent.id}, headers=headers
    )
    await routing.rule(ANYTHING, team_id=routing.support_id)
    r = await client.post(f"/conversations/{conversation_id}/re-route", headers=headers)
    data = r.json()["data"]
    assert (data["teamId"], data["assignedTo"]["id"], data["status"]) == (
        routing.support_id,
        inbox.agent.id,
        "HUMAN_HANDLING",
    )


async def test_a_closed_conversation_is_not_rerouted(client, routing):
    conversation_id = await routing.inbox.customer_writes("hello")
    await client.post(f"/conversations/{conversation_id}/resolve", headers=routing.admin.headers)
    r = await client.post(f"/conversations/{conversation_id}/re-route", headers=routing.admin.headers)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "CONVERSATION_CLOSED"


async def test_run_now_dry_run_counts_and_changes_nothing(client, routing):
    inbox, headers = routing.inbox, routing.admin.headers
    waiting = [await inbox.customer_writes(f"hi {n}") for n in range(3)]
    assigned = await inbox.customer_writes("mine")
    await client.post(f"/conversations/{assigned}/assign", json={"userId": inbox.agent.id}, headers=headers)
    closed = await inbox.customer_writes("bye")
    await client.post(f"/conversations/{closed}/resolve", headers=headers)
    await routing.rule(ANYTHING, team_id=routing.sales_id)

    r = await client.post("/routing-rules/run-now", json={"dryRun": True}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"evaluated": 3, "rerouted": 3, "errors": 0, "total": 3}
    assert {(await detail(client, routing, c))["teamId"] for c in waiting} == {None}

    r = await client.post("/routing-rules/run-now", json={}, headers=headers)
    assert r.json()["data"] == {"evaluated": 3, "rerouted": 3, "errors": 0, "total": 3}
    assert {(await detail(client, routing, c))["teamId"] for c in waiting} == {routing.sales_id}
    assert (await detail(client, routing, assigned))["teamId"] is None
    assert (await detail(client, routing, closed))["teamId"] is None

    r = await client.post(
        "/routing-rules/run-now",
        json={"onlyUnassigned": False, "statuses": ["HUMAN_HANDLING"]},
        headers=headers,
    )
    assert r.json()["data"] == {"evaluated": 1, "rerouted": 1, "errors": 0, "total": 1}
    assert (await detail(client, routing, assigned))["assignedTo"] is None
    r = await client.post("/routing-rules/run-now", headers=headers)
    assert r.json()["data"] == {"evaluated": 4, "rerouted": 0, "errors": 0, "total": 4}


async def test_run_now_bad_body_is_400(client, routing):
    for body in ({"statuses": ["SLEEPING"]}, {"dryRun": "perhaps"}, {"onlyUnassigned": []}):
        r = await client.post("/routing-rules/run-now", json=body, headers=routing.admin.headers)
        assert r.status_code == 400, r.text


async def test_run_now_leaves_other_organizations_alone(client, routing):
    theirs = await routing.theirs.customer_writes("hi")
    await routing.rule(ANYTHING, team_id=routing.sales_id)
    r = await client.post("/routing-rules/run-now", json={}, headers=routing.admin.headers)
    assert r.json()["data"]["total"] == 0
    r = await client.get(f"/conversations/{theirs}", headers=routing.other.admin.headers)
    assert r.json()["data"]["teamId"] is None
