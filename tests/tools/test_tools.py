"""/tools: names, schemas and templates checked when saved; arguments when called; and templating
that cannot be escaped (path traversal, ``?``/``#`` in a path value, JSON injection in the body, a
header split), against the business's API on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.fixtures.audit import audit_entries
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.people import events_of
from tests.tools.helpers import make_connection, make_tool, order_tool


@pytest.fixture
async def connection(client, people, business_api):
    return await make_connection(
        client, people.admin, business_api, authType="BEARER", secrets={"token": "t0ken-1234"}
    )


async def _test(client, admin, tool, params):
    r = await client.post(f"/tools/{tool['id']}/test", json={"params": params}, headers=admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_create_list_update_delete_and_test(client, runtime, people, connection, business_api):
    admin = people.admin
    tool = await make_tool(client, admin, order_tool(connection["id"], resultPath="data.status"))
    assert (tool["name"], tool["method"], tool["isActive"], tool["availableToAgents"]) == (
        "order_status",
        "GET",
        True,
        False,
    )
    outcome = await _test(client, admin, tool, {"orderId": "A-1"})
    assert outcome == {
        "ok": True,
        "status": 200,
        "result": "shipped",
        "truncated": False,
        "latencyMs": outcome["latencyMs"],
        "error": None,
    }
    seen = business_api.last()
    assert seen.raw_path == "/v1/orders/A-1" and seen.headers["authorization"] == "Bearer t0ken-1234"

    update = order_tool(
        connection["id"], name="order_lookup", method="POST", body={"id": "{{params.orderId}}"}
    )
    r = await client.put(f"/tools/{tool['id']}", json=update, headers=admin.headers)
    assert r.status_code == 200 and r.json()["data"]["name"] == "order_lookup"
    listed = (await client.get("/tools", headers=people.supervisor.headers)).json()["data"]
    assert [t["name"] for t in listed] == ["order_lookup"]
    r = await client.delete(f"/tools/{tool['id']}", headers=admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"id": tool["id"], "deleted": True}
    assert (await client.get("/tools", headers=admin.headers)).json()["data"] == []
    assert [e["name"] for e in await events_of(runtime, people.org.id, "tool.created")] == ["order_status"]
    assert await events_of(runtime, people.org.id, "tool.deleted") == [{"id": tool["id"]}]
    assert [e.details for e in await audit_entries(runtime, people.org.id, "tool.updated")] == [
        {"name": "order_lookup"}
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Order"}, "name"),
        ({"name": "1order"}, "name"),
        ({"name": "a" * 65}, "name"),
        ({"name": "order-status"}, "name"),
        ({"parameters": {"type": "string"}}, "parameters"),
        ({"parameters": {"type": "object", "properties": {"a": {"type": "nope"}}}}, "parameters"),
        (
            {"parameters": {"type": "object", "properties": {"a": {"$ref": "http://169.254.169.254/x"}}}},
            "parameters",
        ),
        ({"parameters": {"type": "object", "$schema": "http://169.254.169.254/meta"}}, "parameters"),
        ({"parameters": {"type": "object", "properties": {"a": {"$ref": "other.json#/x"}}}}, "parameters"),
        ({"parameters": {"type": "object", "properties": {"a": {"pattern": "("}}}}, "parameters"),
        ({"path": "/orders/{{params.missing}}"}, "path"),
        ({"path": "/orders/{{secrets.token}}"}, "path"),
        ({"body": {"a": "{{params.nope}}"}}, "body"),
        ({"headers": {"Host": "evil.example"}}, "headers"),
        ({"resultPath": "data..x"}, "resultPath"),
        ({"method": "TRACE"}, "method"),
        ({"connectionId": None}, "body"),
        ({"connectionId": None, "url": "https://{{params.orderId}}.evil.example/x"}, "body"),
    ],
)
async def test_invalid_tools_are_refused(client, people, connection, change, field):
    r = await client.post("/tools", json=order_tool(connection["id"], **change), headers=people.admin.headers)
    error = error_of(r, 400, "VALIDATION_ERROR")
    assert field in {d["field"] for d in error["details"]}, error


async def test_names_are_unique_per_organization(client, people, connection, business_api):
    await make_tool(client, people.admin, order_tool(connection["id"]))
    error_of(
        await client.post("/tools", json=order_tool(connection["id"]), headers=people.admin.headers),
        409,
        "TOOL_NAME_TAKEN",
    )
    theirs = await make_connection(client, people.stranger, business_api)
    await make_tool(client, people.stranger, order_tool(theirs["id"]))  # the same name elsewhere is fine


async def test_arguments_are_checked_against_the_schema(client, people, connection, business_api):
    tool = await make_tool(client, people.admin, order_tool(connection["id"]))
    before = business_api.count()
    r = await client.post(
        f"/tools/{tool['id']}/test", json={"params": {"qty": "many"}}, headers=people.admin.headers
    )
    assert bad_fields(r) == {"params", "params.qty"}
    assert business_api.count() == before


@pytest.mark.parametrize(
    ("order_id", "raw_path"),
    [
        ("..", "/v1/orders/%2E%2E"),
        ("../../admin", "/v1/orders/..%2F..%2Fadmin"),
        ("1?admin=true", "/v1/orders/1%3Fadmin%3Dtrue"),
        ("1#frag", "/v1/orders/1%23frag"),
        ("%2e%2e", "/v1/orders/%252e%252e"),
        ("a/b", "/v1/orders/a%2Fb"),
    ],
)
async def test_a_path_value_stays_one_segment(client, people, connection, business_api, order_id, raw_path):
    tool = await make_tool(client, people.admin, order_tool(connection["id"]))
    outcome = await _test(client, people.admin, tool, {"orderId": order_id})
    assert outcome["ok"] is True
    seen = business_api.last()
    assert (seen.raw_path, seen.query) == (raw_path, "")


async def test_query_values_and_headers_cannot_add_parameters_or_lines(
    client, people, connection, business_api
):
    body = order_tool(
        connection["id"],
        path="/search?q={{params.orderId}}",
        query={"ref": "{{params.orderId}}"},
        headers={"X-Order": "{{params.orderId}}"},
    )
    tool = await make_tool(client, people.admin, body)
    await _test(client, people.admin, tool, {"orderId": "1&admin=true#x"})
    seen = business_api.last()
    assert seen.query == "q=1%26admin%3Dtrue%23x&ref=1%26admin%3Dtrue%23x"
    assert seen.headers["x-order"] == "1&admin=true#x"
    before = business_api.count()
    outcome = await _test(client, people.admin, tool, {"orderId": "1\r\nX-Admin: yes"})
    assert outcome["ok"] is False and "line break" in outcome["error"]
    assert business_api.count() == before


async def test_a_body_value_cannot_inject_json_fields(client, people, connection, business_api):
    body = order_tool(
        connection["id"],
        method="POST",
        path="/orders",
        body={
            "order": {"id": "{{params.orderId}}", "qty": "{{params.qty}}", "note": "ref {{params.orderId}}"},
            "admin": False,
        },
    )
    tool = await make_tool(client, people.admin, body)
    hostile = '1", "admin": true, "x": "'
    await _test(client, people.admin, tool, {"orderId": hostile, "qty": 3})
    sent = business_api.last().json()
    assert sent == {"order": {"id": hostile, "qty": 3, "note": f"ref {hostile}"}, "admin": False}


async def test_results_are_cut_by_path_and_size_and_failures_are_results(
    client, people, connection, business_api
):
    admin = people.admin
    big = await make_tool(client, admin, order_tool(connection["id"], name="big", path="/../big"))
    outcome = await _test(client, admin, big, {"orderId": "1"})
    assert outcome["ok"] is False and "leaves" in outcome["error"]  # a literal template cannot climb either
    root = await make_connection(client, admin, business_api, baseUrl=business_api.url)
    big = await make_tool(client, admin, order_tool(root["id"], name="big2", path="/big"))
    outcome = await _test(client, admin, big, {"orderId": "1"})
    assert outcome["truncated"] is True and len(outcome["result"]) == 8000
    failing = await make_tool(client, admin, order_tool(root["id"], name="failing", path="/status/502"))
    outcome = await _test(client, admin, failing, {"orderId": "1"})
    assert (outcome["ok"], outcome["status"], outcome["error"]) == (False, 502, "the service answered 502")
    missing = await make_tool(
        client, admin, order_tool(root["id"], name="missing", resultPath="data.nothing[3]")
    )
    outcome = await _test(client, admin, missing, {"orderId": "1"})
    assert (outcome["ok"], outcome["result"]) == (True, None)


async def test_a_tool_with_an_absolute_url_and_the_private_switch(
    client, people, business_api, monkeypatch, runtime
):
    admin = people.admin
    body = order_tool(None, name="public_lookup", url=f"{business_api.url}/lookup/{{{{params.orderId}}}}?v=1")
    body.pop("path")
    tool = await make_tool(client, admin, body)
    outcome = await _test(client, admin, tool, {"orderId": "../x"})
    assert outcome["ok"] is True
    seen = business_api.last()
    assert (seen.raw_path, seen.query, "authorization" in seen.headers) == ("/lookup/..%2Fx", "v=1", False)
    monkeypatch.setattr(runtime.settings, "allow_private_urls", False)
    before = business_api.count()
    outcome = await _test(client, admin, tool, {"orderId": "1"})
    assert outcome["ok"] is False and "not allowed" in outcome["error"]
    assert business_api.count() == before
    body["url"] = "http://10.0.0.1/x"
    body["name"] = "internal"
    assert bad_fields(await client.post("/tools", json=body, headers=admin.headers)) == {"url"}


async def test_roles_and_other_organizations(client, people, connection):
    tool = await make_tool(client, people.admin, order_tool(connection["id"]))
    tid = tool["id"]
    body = order_tool(connection["id"])
    for member in (people.supervisor, people.agent):
        error_of(await client.post("/tools", json=body, headers=member.headers), 403, "FORBIDDEN")
        error_of(await client.put(f"/tools/{tid}", json=body, headers=member.headers), 403, "FORBIDDEN")
        error_of(await client.delete(f"/tools/{tid}", headers=member.headers), 403, "FORBIDDEN")
        error_of(await client.post(f"/tools/{tid}/test", json={}, headers=member.headers), 403, "FORBIDDEN")
    error_of(await client.get("/tools", headers=people.agent.headers), 403, "FORBIDDEN")
    stranger = people.stranger.headers
    error_of(await client.put(f"/tools/{tid}", json=body, headers=stranger), 404, "NOT_FOUND")
    error_of(await client.delete(f"/tools/{tid}", headers=stranger), 404, "NOT_FOUND")
    error_of(await client.post(f"/tools/{tid}/test", json={}, headers=stranger), 404, "NOT_FOUND")
    assert (await client.get("/tools", headers=stranger)).json()["data"] == []
    error_of(await client.get("/tools"), 401, "UNAUTHORIZED")


async def test_a_standard_draft_and_local_references_are_taken(client, people, connection):
    parameters = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {"id": {"type": "string", "pattern": "^[A-Z]-[0-9]+$"}},
        "properties": {"orderId": {"$ref": "#/$defs/id"}},
        "required": ["orderId"],
    }
    tool = await make_tool(client, people.admin, order_tool(connection["id"], parameters=parameters))
    r = await client.post(
        f"/tools/{tool['id']}/test", json={"params": {"orderId": "x"}}, headers=people.admin.headers
    )
    assert bad_fields(r) == {"params.orderId"}
    assert (await _test(client, people.admin, tool, {"orderId": "A-1"}))["ok"] is True


async def test_an_edited_schema_and_base_url_apply_to_the_next_call(client, people, connection, business_api):
    """What a call remembers between calls (compiled schemas, parsed base URLs, decrypted secrets)
    is keyed by the settings themselves: an edit is never answered with the old ones."""
    admin = people.admin
    tool = await make_tool(client, admin, order_tool(connection["id"]))
    assert (await _test(client, admin, tool, {"orderId": "A-1"}))["ok"] is True
    stricter = order_tool(connection["id"])
    stricter["parameters"]["properties"]["orderId"]["pattern"] = "^[0-9]+$"
    r = await client.put(f"/tools/{tool['id']}", json=stricter, headers=admin.headers)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/tools/{tool['id']}/test", json={"params": {"orderId": "A-1"}}, headers=admin.headers
    )
    assert bad_fields(r) == {"params.orderId"}
    moved = {
        "name": connection["name"],
        "baseUrl": f"{business_api.url}/v2",
        "authType": "BEARER",
        "secrets": {"token": "n3w-t0ken"},
    }
    r = await client.put(f"/connections/{connection['id']}", json=moved, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert (await _test(client, admin, tool, {"orderId": "12"}))["ok"] is True
    seen = business_api.last()
    assert seen.raw_path == "/v2/orders/12" and seen.headers["authorization"] == "Bearer n3w-t0ken"
