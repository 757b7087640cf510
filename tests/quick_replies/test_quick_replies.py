"""/quick-replies: lists for agents and admins, CRUD, bulk, attachments, and variables."""

from __future__ import annotations

import base64

import httpx
import pytest

from cxinbox.models.identity import Role
from tests.fixtures.audit import audit_entries
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import api_key_headers, error_code, events_of

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 32


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


async def _create(client, member, shortcut="/greeting", content="Hello!", **extra):
    body = {"title": extra.pop("title", "Greeting"), "shortcut": shortcut, "content": content, **extra}
    r = await client.post("/quick-replies", json=body, headers=member.headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def test_create_list_update_delete(inbox, client, runtime):
    greeting = await _create(client, inbox.admin, "Greeting", "Hi {{contact.name}}!", category="openers")
    assert (greeting["shortcut"], greeting["isActive"], greeting["media"]) == ("/greeting", True, None)
    assert greeting["variables"] == ["contact.name"] and greeting["createdById"] == inbox.admin.id
    hidden = await _create(client, inbox.admin, "/old", "Old text", isActive=False)
    r = await client.get("/quick-replies", headers=inbox.agent.headers)
    assert [q["shortcut"] for q in r.json()["data"]] == ["/greeting"]
    r = await client.get("/quick-replies/all", headers=inbox.admin.headers)
    assert [q["shortcut"] for q in r.json()["data"]] == ["/greeting", "/old"]
    r = await client.patch(
        f"/quick-replies/{hidden['id']}",
        json={"isActive": True, "shortcut": "/bye", "content": "Bye {{agent.name}}", "category": None},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 200
    data = r.json()["data"]
    assert (data["shortcut"], data["isActive"], data["variables"]) == ("/bye", True, ["agent.name"])
    r = await client.get("/quick-replies", headers=inbox.agent.headers)
    assert [q["shortcut"] for q in r.json()["data"]] == ["/bye", "/greeting"]
    r = await client.delete(f"/quick-replies/{greeting['id']}", headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"id": greeting["id"], "deleted": True}
    assert [e["shortcut"] for e in await events_of(runtime, inbox.org.id, "quick_reply.created")] == [
        "/greeting",
        "/old",
    ]
    assert await events_of(runtime, inbox.org.id, "quick_reply.deleted") == [{"id": greeting["id"]}]


async def test_quick_reply_changes_are_written_to_the_audit_log(inbox, client, runtime):
    admin, org_id = inbox.admin, inbox.org.id
    hello = await _create(client, admin, "/hello", "Hello!", title="Hello")
    bye = await _create(client, admin, "/bye", "Bye!", title="Bye")
    url = f"/quick-replies/{hello['id']}"
    changes = {"title": "Hello", "content": "Hi there!", "isActive": False}  # the title stays
    assert (await client.patch(url, json=changes, headers=admin.headers)).status_code == 200
    r = await client.post(f"{url}/media", files={"file": ("card.pdf", PDF)}, headers=admin.headers)
    assert r.status_code == 200
    assert (await client.delete(f"{url}/media", headers=admin.headers)).status_code == 200
    for action, ids in (("activate", [hello["id"]]), ("delete", [bye["id"]])):
        body = {"action": action, "selection": {"mode": "ids", "ids": ids}}
        assert (await client.post("/quick-replies/bulk", json=body, headers=admin.headers)).status_code == 200
    assert (await client.delete(url, headers=admin.headers)).status_code == 200

    created = await audit_entries(runtime, org_id, "quick_reply.created")
    assert [(e.target_type, e.target_id, e.details) for e in created] == [
        ("quick_reply", hello["id"], {"shortcut": "/hello", "title": "Hello"}),
        ("quick_reply", bye["id"], {"shortcut": "/bye", "title": "Bye"}),
    ]
    updated = await audit_entries(runtime, org_id, "quick_reply.updated")
    assert [e.details["changes"] for e in updated] == [
        {"content": "Hi there!", "isActive": False},
        {"media": {"filename": "card.pdf", "mimeType": "application/pdf", "size": len(PDF)}},
        {"media": None},
        {"isActive": True},
    ]
    deleted = await audit_entries(runtime, org_id, "quick_reply.deleted")
    assert [e.target_id for e in deleted] == [bye["id"], hello["id"]]
    entries = created + updated + deleted
    assert all(e.actor_user_id == admin.id and e.actor_role == "ADMIN" and e.ip for e in entries)


async def test_shortcuts_are_unique_within_an_organization(inbox, client, factory):
    first = await _create(client, inbox.admin, "/thanks")
    r = await client.post(
        "/quick-replies",
        json={"title": "T", "shortcut": "THANKS", "content": "x"},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 409 and error_code(r) == "SHORTCUT_TAKEN"
    second = await _create(client, inbox.admin, "/thx")
    r = await client.patch(
        f"/quick-replies/{second['id']}", json={"shortcut": "/thanks"}, headers=inbox.admin.headers
    )
    assert r.status_code == 409
    r = await client.patch(
        f"/quick-replies/{first['id']}", json={"shortcut": "/thanks"}, headers=inbox.admin.headers
    )
    assert r.status_code == 200
    other = await factory.org()
    await _create(client, other.admin, "/thanks")


@pytest.mark.parametrize(
    "body",
    [
        {"shortcut": "/ok", "content": "x"},
        {"title": "T", "content": "x"},
        {"title": "T", "shortcut": "/ok"},
        {"title": "T", "shortcut": "/has space", "content": "x"},
        {"title": "T", "shortcut": "/", "content": "x"},
        {"title": "T", "shortcut": "/ok", "content": "   "},
        {"title": "T", "shortcut": "/ok", "content": "x" * 4097},
        {"title": "x" * 101, "shortcut": "/ok", "content": "x"},
        {"title": "T", "shortcut": "/ok", "content": "x", "isActive": "sometimes"},
    ],
)
async def test_create_validation(inbox, client, body):
    r = await client.post("/quick-replies", json=body, headers=inbox.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body


async def test_variables_are_filled_for_a_conversation(inbox, client):
    await _create(
        client,
        inbox.admin,
        "/hello",
        "Hi {{contact.firstName}} ({{ contact.name }}, {{contact.phone}}), {{agent.firstName}} of "
        "{{organization.name}} here. {{unknown.thing}} {{agent.email}}",
    )
    await _create(client, inbox.admin, "/plain", "Dear {{contact.name|customer}}, thanks!")
    conversation = await inbox.in_team(wa_id="972501112222", name="Dana Levi")
    r = await client.get(
        "/quick-replies", params={"conversationId": conversation}, headers=inbox.agent.headers
    )
    assert r.status_code == 200
    rendered = {q["shortcut"]: q["renderedContent"] for q in r.json()["data"]}
    agent_first = inbox.agent.user.name.split()[0]
    assert rendered["/hello"] == (
        f"Hi Dana (Dana Levi, +972501112222), {agent_first} of {inbox.org.organization.name} here. "
        f"{{{{unknown.thing}}}} {inbox.agent.email}"
    )
    assert rendered["/plain"] == "Dear Dana Levi, thanks!"
    nameless = await inbox.in_team(name=None)
    r = await client.get("/quick-replies", params={"conversationId": nameless}, headers=inbox.agent.headers)
    rendered = {q["shortcut"]: q["renderedContent"] for q in r.json()["data"]}
    assert rendered["/plain"] == "Dear customer, thanks!"
    r = await client.get("/quick-replies", headers=inbox.agent.headers)
    assert all(q["renderedContent"] is None for q in r.json()["data"])


async def test_rendering_needs_a_conversation_the_caller_sees(inbox, client, factory):
    await _create(client, inbox.admin, "/hi", "Hi {{contact.name}} from {{agent.name|the team}}")
    elsewhere = await inbox.customer_writes(name="Hidden")
    r = await client.get("/quick-replies", params={"conversationId": elsewhere}, headers=inbox.agent.headers)
    assert r.status_code == 404
    other = await factory.org()
    r = await client.get(
        "/quick-replies/all", params={"conversationId": elsewhere}, headers=other.admin.headers
    )
    assert r.status_code == 404
    key = await api_key_headers(client, inbox.org)
    r = await client.get("/quick-replies", params={"conversationId": elsewhere}, headers=key)
    assert r.json()["data"][0]["renderedContent"] == "Hi Hidden from the team"


async def test_attachments_are_recognised_by_their_content(inbox, client):
    reply = await _create(client, inbox.admin)
    url = f"/quick-replies/{reply['id']}/media"
    for data, name, kind, mime in (
        (PNG, "logo.bin", "image", "image/png"),
        (PDF, "prices.pdf", "document", "application/pdf"),
        (MP4, "clip.mp4", "video", "video/mp4"),
    ):
        r = await client.post(url, files={"file": (name, data, "text/plain")}, headers=inbox.admin.headers)
        assert r.status_code == 200, r.text
        media = r.json()["data"]["media"]
        assert (media["kind"], media["mimeType"], media["filename"], media["size"]) == (
            kind,
            mime,
            name,
            len(data),
        )
    # the signed URL serves the stored bytes
    path = httpx.URL(media["url"])
    served = await client.get(path.path.removeprefix("/api/v1") + "?" + path.query.decode())
    assert served.status_code == 200 and served.content == MP4
    r = await client.post(
        url, files={"file": ("notes.txt", b"just text", "image/png")}, headers=inbox.admin.headers
    )
    assert r.status_code == 415 and error_code(r) == "UNSUPPORTED_MEDIA_TYPE"
    big = b"%PDF-" + b"0" * (16 * 1024 * 1024)
    r = await client.post(
        url, files={"file": ("big.pdf", big, "application/pdf")}, headers=inbox.admin.headers
    )
    assert r.status_code == 413
    r = await client.post(url, headers=inbox.admin.headers)
    assert r.status_code == 400
    r = await client.delete(url, headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["media"] is None
    r = await client.get(path.path.removeprefix("/api/v1") + "?" + path.query.decode())
    assert r.status_code == 404  # the file went with it


async def test_bulk_actions(inbox, client):
    a = await _create(client, inbox.admin, "/a", category="sales")
    b = await _create(client, inbox.admin, "/b", category="sales")
    c = await _create(client, inbox.admin, "/c")
    r = await client.post(
        "/quick-replies/bulk",
        json={"action": "deactivate", "selection": {"mode": "filter", "filter": {"category": "sales"}}},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 200
    assert (r.json()["data"]["succeeded"], sorted(r.json()["data"]["succeededIds"])) == (
        2,
        sorted([a["id"], b["id"]]),
    )
    r = await client.get("/quick-replies", headers=inbox.agent.headers)
    assert [q["shortcut"] for q in r.json()["data"]] == ["/c"]
    r = await client.post(
        "/quick-replies/bulk",
        json={"action": "delete", "selection": {"mode": "ids", "ids": [a["id"], c["id"], "missing"]}},
        headers=inbox.admin.headers,
    )
    result = r.json()["data"]
    assert (result["requested"], result["succeeded"]) == (3, 2)
    assert result["failed"] == [{"id": "missing", "code": "NOT_FOUND", "message": "Quick reply not found"}]
    r = await client.get("/quick-replies/all", headers=inbox.admin.headers)
    assert [q["shortcut"] for q in r.json()["data"]] == ["/b"]
    for body in (
        {"action": "explode", "selection": {"mode": "ids", "ids": ["x"]}},
        {"action": "delete", "selection": {"mode": "ids"}},
        {"action": "delete", "selection": {"mode": "filter", "filter": {"isActive": "maybe"}}},
    ):
        r = await client.post("/quick-replies/bulk", json=body, headers=inbox.admin.headers)
        assert r.status_code == 400, body


async def test_admin_only_tokens_and_other_organizations(inbox, client, factory):
    reply = await _create(client, inbox.admin)
    supervisor = await factory.member(inbox.org.id, Role.SUPERVISOR)
    other = await factory.org()
    writes = [
        ("POST", "/quick-replies", {"title": "T", "shortcut": "/t", "content": "x"}),
        ("GET", "/quick-replies/all", None),
        ("PATCH", f"/quick-replies/{reply['id']}", {"title": "New"}),
        ("DELETE", f"/quick-replies/{reply['id']}", None),
        (
            "POST",
            "/quick-replies/bulk",
            {"action": "delete", "selection": {"mode": "ids", "ids": [reply["id"]]}},
        ),
        ("DELETE", f"/quick-replies/{reply['id']}/media", None),
    ]
    for method, path, body in [*writes, ("GET", "/quick-replies", None)]:
        assert (await client.request(method, path, json=body)).status_code == 401, path
    for method, path, body in writes:
        for member in (inbox.agent, supervisor):
            r = await client.request(method, path, json=body, headers=member.headers)
            assert r.status_code == 403 and error_code(r) == "FORBIDDEN", path
    r = await client.post(
        f"/quick-replies/{reply['id']}/media", files={"file": ("a.png", PNG)}, headers=inbox.agent.headers
    )
    assert r.status_code == 403
    for method, path, body in (
        ("PATCH", f"/quick-replies/{reply['id']}", {"title": "New"}),
        ("DELETE", f"/quick-replies/{reply['id']}", None),
        ("DELETE", f"/quick-replies/{reply['id']}/media", None),
    ):
        assert (await client.request(method, path, json=body, headers=other.admin.headers)).status_code == 404
    r = await client.post(
        f"/quick-replies/{reply['id']}/media", files={"file": ("a.png", PNG)}, headers=other.admin.headers
    )
    assert r.status_code == 404
    assert (await client.get("/quick-replies", headers=other.admin.headers)).json()["data"] == []
    platform = await factory.super_admin()
    assert (await client.get("/quick-replies", headers=platform.headers)).status_code == 403
