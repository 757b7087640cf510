"""/tags and /conversations/{id}/tags."""

from __future__ import annotations

import pytest

from cxinbox.models.identity import Plan, Role
from tests.fixtures.audit import audit_entries
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import error_code, events_of


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


async def _tag(client, member, name="VIP", **extra):
    r = await client.post("/tags", json={"name": name, **extra}, headers=member.headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def test_colors_palette(client, factory):
    org = await factory.org()
    r = await client.get("/tags/colors", headers=org.admin.headers)
    assert r.status_code == 200
    colors = r.json()["data"]
    assert {"name": "blue", "value": "#3B82F6"} in colors and len(colors) >= 10
    assert (await client.get("/tags/colors")).status_code == 401


async def test_create_list_update_delete(client, factory, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    agent = await factory.member(org.id, Role.AGENT)
    vip = await _tag(client, org.admin, "VIP", color="#3b82f6")
    assert (vip["name"], vip["color"]) == ("VIP", "#3B82F6")
    plain = await _tag(client, supervisor, "  angry customer ")
    assert (plain["name"], plain["color"]) == ("angry customer", "#6B7280")
    named = await _tag(client, org.admin, "Refund", color="green")
    assert named["color"] == "#22C55E"
    r = await client.get("/tags", headers=agent.headers)
    assert [t["name"] for t in r.json()["data"]] == ["angry customer", "Refund", "VIP"]
    r = await client.put(
        f"/tags/{vip['id']}", json={"name": "VVIP", "color": "red"}, headers=supervisor.headers
    )
    assert r.status_code == 200 and (r.json()["data"]["name"], r.json()["data"]["color"]) == (
        "VVIP",
        "#EF4444",
    )
    r = await client.put(f"/tags/{vip['id']}", json={"color": "blue"}, headers=org.admin.headers)
    assert r.json()["data"]["name"] == "VVIP"
    r = await client.delete(f"/tags/{vip['id']}", headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"id": vip["id"], "deleted": True}
    r = await client.get("/tags", headers=agent.headers)
    assert [t["name"] for t in r.json()["data"]] == ["angry customer", "Refund"]
    assert [e["name"] for e in await events_of(runtime, org.id, "tag.created")] == [
        "VIP",
        "angry customer",
        "Refund",
    ]
    assert await events_of(runtime, org.id, "tag.deleted") == [{"id": vip["id"]}]


async def test_tag_changes_are_written_to_the_audit_log(client, factory, runtime):
    org = await factory.org()
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    vip = await _tag(client, supervisor, "VIP", color="blue")
    url = f"/tags/{vip['id']}"
    assert (await client.put(url, json={"name": "VVIP"}, headers=org.admin.headers)).status_code == 200
    r = await client.put(url, json={"name": "VVIP", "color": "blue"}, headers=org.admin.headers)
    assert r.status_code == 200  # changes nothing, so writes nothing
    assert (await client.delete(url, headers=supervisor.headers)).status_code == 200

    [created] = await audit_entries(runtime, org.id, "tag.created")
    assert (created.actor_user_id, created.actor_role, created.target_type, created.target_id) == (
        supervisor.id,
        "SUPERVISOR",
        "tag",
        vip["id"],
    )
    assert created.details == {"name": "VIP", "color": "#3B82F6"} and created.ip
    [updated] = await audit_entries(runtime, org.id, "tag.updated")
    assert (updated.actor_user_id, updated.details) == (
        org.admin.id,
        {"name": "VVIP", "changes": {"name": "VVIP"}},
    )
    [deleted] = await audit_entries(runtime, org.id, "tag.deleted")
    assert (deleted.actor_user_id, deleted.target_id, deleted.details) == (
        supervisor.id,
        vip["id"],
        {"name": "VVIP"},
    )


async def test_names_are_unique_within_an_organization_ignoring_case(client, factory):
    org, other = await factory.org(), await factory.org()
    first = await _tag(client, org.admin, "VIP")
    for name in ("VIP", "vip"):
        r = await client.post("/tags", json={"name": name}, headers=org.admin.headers)
        assert r.status_code == 409 and error_code(r) == "TAG_NAME_TAKEN", name
    await _tag(client, other.admin, "VIP")  # another organization may
    second = await _tag(client, org.admin, "Gold")
    r = await client.put(f"/tags/{second['id']}", json={"name": "Vip"}, headers=org.admin.headers)
    assert r.status_code == 409
    r = await client.put(f"/tags/{first['id']}", json={"name": "vip"}, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["name"] == "vip"  # renaming itself


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 51},
        {"name": "A", "color": "#123456"},
        {"name": "A", "color": 5},
    ],
)
async def test_create_validation(client, factory, body):
    org = await factory.org()
    r = await client.post("/tags", json=body, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body


async def test_update_validation(client, factory):
    org = await factory.org()
    tag = await _tag(client, org.admin)
    for body in ({"name": ""}, {"color": "plaid"}):
        r = await client.put(f"/tags/{tag['id']}", json=body, headers=org.admin.headers)
        assert r.status_code == 400, body


async def test_roles_tokens_and_other_organizations(client, factory):
    org, other = await factory.org(), await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    tag = await _tag(client, org.admin)
    assert (await client.get("/tags")).status_code == 401
    assert (await client.post("/tags", json={"name": "x"})).status_code == 401
    assert (await client.put(f"/tags/{tag['id']}", json={"name": "x"})).status_code == 401
    assert (await client.delete(f"/tags/{tag['id']}")).status_code == 401
    r = await client.post("/tags", json={"name": "mine"}, headers=agent.headers)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    assert (
        await client.put(f"/tags/{tag['id']}", json={"name": "x"}, headers=agent.headers)
    ).status_code == 403
    assert (await client.delete(f"/tags/{tag['id']}", headers=agent.headers)).status_code == 403
    platform = await factory.super_admin()
    assert (await client.get("/tags", headers=platform.headers)).status_code == 403
    assert (
        await client.put(f"/tags/{tag['id']}", json={"name": "x"}, headers=other.admin.headers)
    ).status_code == 404
    assert (await client.delete(f"/tags/{tag['id']}", headers=other.admin.headers)).status_code == 404
    assert (await client.get("/tags", headers=other.admin.headers)).json()["data"] == []


async def test_tagging_conversations(inbox, client):
    conversation = await inbox.in_team()
    vip = await _tag(client, inbox.admin, "VIP", color="amber")
    refund = await _tag(client, inbox.admin, "Refund")
    for tag in (vip, refund, vip):  # adding a tag twice changes nothing
        r = await client.post(
            f"/conversations/{conversation}/tags", json={"tagId": tag["id"]}, headers=inbox.agent.headers
        )
        assert r.status_code == 201, r.text
    assert [t["name"] for t in r.json()["data"]["tags"]] == ["Refund", "VIP"]
    assert r.json()["data"]["tags"][1]["color"] == "#F59E0B"
    r = await client.get("/conversations", params={"tag": vip["id"]}, headers=inbox.agent.headers)
    assert [c["id"] for c in r.json()["data"]] == [conversation]
    r = await client.delete(f"/conversations/{conversation}/tags/{vip['id']}", headers=inbox.agent.headers)
    assert r.status_code == 200 and [t["name"] for t in r.json()["data"]["tags"]] == ["Refund"]
    r = await client.delete(f"/conversations/{conversation}/tags/{vip['id']}", headers=inbox.agent.headers)
    assert r.status_code == 200  # not there: nothing to remove
    updates = [
        e
        for e in await events_of(inbox.runtime, inbox.org.id, "conversation.updated")
        if e["id"] == conversation
    ]
    assert [[t["name"] for t in u["tags"]] for u in updates][-3:] == [["VIP"], ["Refund", "VIP"], ["Refund"]]


async def test_deleting_a_tag_removes_it_from_conversations(inbox, client):
    conversation = await inbox.customer_writes()
    tag = await _tag(client, inbox.admin)
    await client.post(
        f"/conversations/{conversation}/tags", json={"tagId": tag["id"]}, headers=inbox.admin.headers
    )
    await client.delete(f"/tags/{tag['id']}", headers=inbox.admin.headers)
    r = await client.get(f"/conversations/{conversation}", headers=inbox.admin.headers)
    assert r.json()["data"]["tags"] == []


async def test_tagging_needs_a_tag_of_the_organization_and_a_visible_conversation(inbox, client, factory):
    conversation = await inbox.customer_writes()
    other = await factory.org()
    foreign = await _tag(client, other.admin, "Foreign")
    r = await client.post(
        f"/conversations/{conversation}/tags", json={"tagId": foreign["id"]}, headers=inbox.admin.headers
    )
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    r = await client.post(f"/conversations/{conversation}/tags", json={}, headers=inbox.admin.headers)
    assert r.status_code == 400
    r = await client.delete(
        f"/conversations/{conversation}/tags/{foreign['id']}", headers=inbox.admin.headers
    )
    assert r.status_code == 404
    mine = await _tag(client, inbox.admin, "Mine")
    r = await client.post(
        f"/conversations/{conversation}/tags", json={"tagId": mine["id"]}, headers=other.admin.headers
    )
    assert r.status_code == 404
    r = await client.post(
        f"/conversations/{conversation}/tags", json={"tagId": mine["id"]}, headers=inbox.agent.headers
    )
    assert r.status_code == 404  # outside the agent's view
    assert (
        await client.post(f"/conversations/{conversation}/tags", json={"tagId": mine["id"]})
    ).status_code == 401
