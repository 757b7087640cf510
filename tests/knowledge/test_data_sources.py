"""/inbox-data-sources*: lookups on a connection to the business's API (a local HTTP server), their
fields beside a conversation under the inbox visibility rule, cached with a TTL and ``force`` past
it, the outbound guard, roles, and other organizations' sources, connections and conversations."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cxinbox.models.inbox import Contact, Conversation
from tests.fixtures.audit import audit_entries
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.inbox import Inbox, make_inbox
from tests.tools.helpers import make_connection

KEY = "crm-key-5566778899"
ACCOUNT = {"fullName": "Ana López", "account": {"balance": 120.5, "plans": [{"name": "gold"}]}}
FIELDS = [
    {"label": "Cliente", "path": "data[0].fullName"},
    {"label": "Saldo", "path": "data[0].account.balance"},
    {"label": "Plan", "path": "data[0].account.plans[0].name"},
]


def source_body(connection_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": "Cuenta",
        "connectionId": connection_id,
        "path": "/customers?phone={{phone10}}",
        "fields": FIELDS,
        **fields,
    }


@pytest.fixture
async def inbox(client, runtime, factory, graph) -> Inbox:
    return await make_inbox(client, runtime, factory, graph)


@pytest.fixture
async def connection(client, inbox, business_api) -> dict[str, Any]:
    return await make_connection(
        client,
        inbox.admin,
        business_api,
        baseUrl=business_api.url,
        authType="API_KEY_HEADER",
        secrets={"apiKey": KEY},
    )


async def create_source(client, inbox: Inbox, connection_id: str, **fields: Any) -> dict[str, Any]:
    r = await client.post(
        "/inbox-data-sources", json=source_body(connection_id, **fields), headers=inbox.admin.headers
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def test_create_list_update_delete_and_audit(client, runtime, inbox, connection):
    source = await create_source(client, inbox, connection["id"], order=2)
    assert (source["name"], source["method"], source["cacheTtlSeconds"], source["isActive"]) == (
        "Cuenta",
        "GET",
        300,
        True,
    )
    assert source["fields"] == FIELDS and source["order"] == 2
    first = await create_source(client, inbox, connection["id"], name="Pedidos", order=1)
    r = await client.get("/inbox-data-sources", headers=inbox.agent.headers)
    assert r.status_code == 200 and [s["id"] for s in r.json()["data"]] == [first["id"], source["id"]]
    body = source_body(connection["id"], name="Cuenta CRM", cacheTtlSeconds=0, isActive=False)
    r = await client.put(f"/inbox-data-sources/{source['id']}", json=body, headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["name"], r.json()["data"]["cacheTtlSeconds"]) == ("Cuenta CRM", 0)
    r = await client.delete(f"/inbox-data-sources/{source['id']}", headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["id"] == source["id"]
    error_of(
        await client.delete(f"/inbox-data-sources/{source['id']}", headers=inbox.admin.headers),
        404,
        "NOT_FOUND",
    )
    actions = ["inbox_data_source.created", "inbox_data_source.updated", "inbox_data_source.deleted"]
    for action in actions:
        assert source["id"] in [e.target_id for e in await audit_entries(runtime, inbox.org.id, action)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"path": "/customers/{{params.id}}"}, "path"),
        ({"query": {"q": "{{secrets.apiKey}}"}}, "query"),
        ({"body": {"x": "{{unknown}}"}, "method": "POST"}, "body"),
        ({"fields": []}, "fields"),
        ({"fields": [{"label": "A", "path": "data..x"}]}, "fields.0.path"),
        ({"fields": [{"label": " ", "path": "data"}]}, "fields.0.label"),
        ({"headers": {"Authorization": "Bearer {{phone}}"}}, "headers"),
        ({"cacheTtlSeconds": -1}, "cacheTtlSeconds"),
        ({"method": "TRACE"}, "method"),
        ({"name": ""}, "name"),
    ],
)
async def test_invalid_sources_are_refused(client, inbox, connection, change, field):
    r = await client.post(
        "/inbox-data-sources", json=source_body(connection["id"], **change), headers=inbox.admin.headers
    )
    assert bad_fields(r) == {field}


async def test_conversation_data_is_cached_forced_and_visible_only_to_who_sees_it(
    client, runtime, factory, inbox, connection, business_api
):
    source = await create_source(client, inbox, connection["id"])
    conversation_id = await inbox.in_team(wa_id="5215512340001")
    business_api.accounts["5512340001"] = ACCOUNT
    url = f"/inbox-data-sources/data/{conversation_id}"
    before = business_api.count()
    r = await client.get(url, headers=inbox.agent.headers)
    assert r.status_code == 200, r.text
    [data] = r.json()["data"]
    assert (data["dataSourceId"], data["name"], data["status"], data["cached"]) == (
        source["id"],
        "Cuenta",
        "OK",
        False,
    )
    assert data["fields"] == [
        {"label": "Cliente", "value": "Ana López"},
        {"label": "Saldo", "value": 120.5},
        {"label": "Plan", "value": "gold"},
    ]
    sent = business_api.last()
    assert sent.query == "phone=5512340001" and sent.headers["x-api-key"] == KEY
    r = await client.get(url, headers=inbox.supervisor.headers)
    assert r.json()["data"][0]["cached"] is True and r.json()["data"][0]["fields"] == data["fields"]
    assert business_api.count() == before + 1
    r = await client.get(url, params={"force": "true"}, headers=inbox.admin.headers)
    assert r.json()["data"][0]["cached"] is False and business_api.count() == before + 2
    # an edit starts afresh
    body = source_body(connection["id"], fields=FIELDS[:1])
    assert (
        await client.put(f"/inbox-data-sources/{source['id']}", json=body, headers=inbox.admin.headers)
    ).status_code == 200
    r = await client.get(url, headers=inbox.agent.headers)
    assert r.json()["data"][0]["cached"] is False and r.json()["data"][0]["fields"] == data["fields"][:1]
    # the inbox visibility rule: an agent outside the team, another organization
    error_of(await client.get(url, headers=inbox.outsider.headers), 404, "NOT_FOUND")
    other = await factory.org()
    error_of(await client.get(url, headers=other.admin.headers), 404, "NOT_FOUND")
    error_of(await client.get(url), 401, "UNAUTHORIZED")
    assert business_api.count() == before + 3


async def test_not_found_errors_and_inactive_sources(client, runtime, inbox, connection, business_api):
    await create_source(client, inbox, connection["id"], name="A")
    await create_source(client, inbox, connection["id"], name="B", path="/status/500", order=1)
    await create_source(client, inbox, connection["id"], name="C", path="/status/404", order=2)
    await create_source(client, inbox, connection["id"], name="Off", isActive=False, order=3)
    conversation_id = await inbox.in_team(wa_id="5215599990000")
    r = await client.get(f"/inbox-data-sources/data/{conversation_id}", headers=inbox.agent.headers)
    assert r.status_code == 200
    shown = {d["name"]: d for d in r.json()["data"]}
    assert set(shown) == {"A", "B", "C"}
    assert (shown["A"]["status"], shown["A"]["fields"]) == ("NOT_FOUND", [])
    assert shown["B"]["status"] == "ERROR" and "500" in shown["B"]["error"]
    assert shown["C"]["status"] == "NOT_FOUND"
    # a failure is not cached: the next read asks again
    before = business_api.count()
    await client.get(f"/inbox-data-sources/data/{conversation_id}", headers=inbox.agent.headers)
    assert business_api.count() == before + 1
    # a contact known by a username has no number to look up
    async with runtime.unit_of_work() as session:
        contact = await session.scalar(
            select(Contact).join(Conversation).where(Conversation.id == conversation_id)
        )
        contact.phone, contact.wa_id = None, "US.12345abc"
    r = await client.get(
        f"/inbox-data-sources/data/{conversation_id}", params={"force": "1"}, headers=inbox.agent.headers
    )
    assert {d["status"] for d in r.json()["data"]} == {"ERROR"}


async def test_values_stay_values_wherever_they_land(client, runtime, inbox, connection, business_api):
    await create_source(
        client,
        inbox,
        connection["id"],
        path="/lookup/{{contact.name}}?phone={{phoneE164}}&wa={{waId}}",
        fields=[{"label": "Path", "path": "data.path"}, {"label": "Query", "path": "data.query"}],
    )
    conversation_id = await inbox.in_team(wa_id="5215512340002", name="../../admin?x=1&phone=0")
    r = await client.get(f"/inbox-data-sources/data/{conversation_id}", headers=inbox.agent.headers)
    [data] = r.json()["data"]
    assert data["status"] == "OK", data
    sent = business_api.last()
    assert sent.raw_path == "/lookup/..%2F..%2Fadmin%3Fx%3D1%26phone%3D0"
    assert sent.query == "phone=%2B525512340002&wa=5215512340002"
    assert KEY not in r.text  # the API echoed its headers: the key is redacted


async def test_the_test_endpoint_reports_status_and_latency(client, inbox, connection, business_api):
    source = await create_source(client, inbox, connection["id"], isActive=False)
    business_api.accounts["5512340003"] = ACCOUNT
    url = f"/inbox-data-sources/{source['id']}/test"
    r = await client.post(url, json={"phone": "+52 55 1234 0003"}, headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["status"], data["httpStatus"], data["cached"]) == ("OK", 200, False)
    assert data["fields"][0] == {"label": "Cliente", "value": "Ana López"} and data["latencyMs"] >= 0
    assert bad_fields(await client.post(url, json={"phone": "12345"}, headers=inbox.admin.headers)) == {
        "phone"
    }
    assert bad_fields(await client.post(url, json={}, headers=inbox.admin.headers)) == {"phone"}
    failing = await create_source(client, inbox, connection["id"], path="/status/503")
    r = await client.post(
        f"/inbox-data-sources/{failing['id']}/test", json={"phone": "5512340003"}, headers=inbox.admin.headers
    )
    assert r.status_code == 200 and (r.json()["data"]["status"], r.json()["data"]["httpStatus"]) == (
        "ERROR",
        503,
    )


async def test_private_addresses_are_refused_by_the_guard(
    client, inbox, connection, business_api, private_urls_refused
):
    source = await create_source(client, inbox, connection["id"])
    before = business_api.count()
    r = await client.post(
        f"/inbox-data-sources/{source['id']}/test", json={"phone": "5512340004"}, headers=inbox.admin.headers
    )
    data = r.json()["data"]
    assert r.status_code == 200 and data["status"] == "ERROR" and "not allowed" in data["error"]
    conversation_id = await inbox.in_team(wa_id="5215512340004")
    r = await client.get(f"/inbox-data-sources/data/{conversation_id}", headers=inbox.agent.headers)
    assert r.json()["data"][0]["status"] == "ERROR" and "not allowed" in r.json()["data"][0]["error"]
    assert business_api.count() == before
    for private in ("http://169.254.169.254/latest", "http://10.0.0.1", "http://[::1]:8080"):
        body = {"name": "Metadata", "baseUrl": private}
        assert bad_fields(await client.post("/connections", json=body, headers=inbox.admin.headers)) == {
            "baseUrl"
        }


async def test_deleting_the_connection_deletes_its_sources(client, inbox, connection):
    source = await create_source(client, inbox, connection["id"])
    assert (
        await client.delete(f"/connections/{connection['id']}", headers=inbox.admin.headers)
    ).status_code == 200
    r = await client.get("/inbox-data-sources", headers=inbox.admin.headers)
    assert r.json()["data"] == []
    error_of(
        await client.put(
            f"/inbox-data-sources/{source['id']}",
            json=source_body(connection["id"]),
            headers=inbox.admin.headers,
        ),
        404,
        "NOT_FOUND",
    )


async def test_roles_and_another_organizations_ids(
    client, factory, graph, runtime, inbox, connection, business_api
):
    source = await create_source(client, inbox, connection["id"])
    body = source_body(connection["id"])
    for member in (inbox.agent, inbox.supervisor):
        error_of(
            await client.post("/inbox-data-sources", json=body, headers=member.headers), 403, "FORBIDDEN"
        )
        error_of(
            await client.put(f"/inbox-data-sources/{source['id']}", json=body, headers=member.headers),
            403,
            "FORBIDDEN",
        )
        error_of(
            await client.delete(f"/inbox-data-sources/{source['id']}", headers=member.headers),
            403,
            "FORBIDDEN",
        )
        error_of(
            await client.post(
                f"/inbox-data-sources/{source['id']}/test",
                json={"phone": "5512345678"},
                headers=member.headers,
            ),
            403,
            "FORBIDDEN",
        )
    error_of(await client.get("/inbox-data-sources"), 401, "UNAUTHORIZED")
    error_of(await client.post("/inbox-data-sources", json=body), 401, "UNAUTHORIZED")
    # another organization: our source is not theirs, nor is our connection
    other = await make_inbox(client, runtime, factory, graph)
    theirs = other.admin.headers
    assert (await client.get("/inbox-data-sources", headers=theirs)).json()["data"] == []
    error_of(
        await client.put(f"/inbox-data-sources/{source['id']}", json=body, headers=theirs), 404, "NOT_FOUND"
    )
    error_of(await client.delete(f"/inbox-data-sources/{source['id']}", headers=theirs), 404, "NOT_FOUND")
    error_of(
        await client.post(
            f"/inbox-data-sources/{source['id']}/test", json={"phone": "5512345678"}, headers=theirs
        ),
        404,
        "NOT_FOUND",
    )
    error_of(await client.post("/inbox-data-sources", json=body, headers=theirs), 404, "NOT_FOUND")
    their_connection = await make_connection(client, other.admin, business_api, baseUrl=business_api.url)
    error_of(
        await client.put(
            f"/inbox-data-sources/{source['id']}",
            json=source_body(their_connection["id"]),
            headers=inbox.admin.headers,
        ),
        404,
        "NOT_FOUND",
    )
    r = await client.get("/inbox-data-sources", headers=inbox.admin.headers)
    assert [s["connectionId"] for s in r.json()["data"]] == [connection["id"]]
