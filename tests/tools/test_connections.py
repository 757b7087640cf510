"""/connections: each auth type reaches the business's API as it should, credentials are encrypted,
masked, revealed only to admins (audited) and never leak into answers or logs; the test endpoint
reports a failing remote as ok:false; private addresses are refused with the switch off."""

from __future__ import annotations

import base64
import logging

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from cxinbox.models.tools import Connection
from tests.fixtures.audit import audit_entries
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.net import free_port
from tests.tools.helpers import make_connection, make_tool, order_tool

SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(
    ("auth", "expect"),
    [
        ({"authType": "NONE"}, lambda seen: "authorization" not in seen.headers),
        (
            {"authType": "API_KEY_HEADER", "secrets": {"apiKey": SECRET}},
            lambda seen: seen.headers["x-api-key"] == SECRET,
        ),
        (
            {"authType": "API_KEY_HEADER", "headerName": "X-Shop-Key", "secrets": {"apiKey": SECRET}},
            lambda seen: seen.headers["x-shop-key"] == SECRET and "x-api-key" not in seen.headers,
        ),
        (
            {"authType": "API_KEY_QUERY", "queryParam": "key", "secrets": {"apiKey": SECRET}},
            lambda seen: seen.query == f"key={SECRET}",
        ),
        (
            {"authType": "API_KEY_QUERY", "secrets": {"apiKey": SECRET}},
            lambda seen: seen.query == f"api_key={SECRET}",
        ),
        (
            {"authType": "BEARER", "secrets": {"token": SECRET}},
            lambda seen: seen.headers["authorization"] == f"Bearer {SECRET}",
        ),
        (
            {"authType": "BASIC", "secrets": {"username": "shop", "password": SECRET}},
            lambda seen: (
                seen.headers["authorization"]
                == "Basic " + base64.b64encode(f"shop:{SECRET}".encode()).decode()
            ),
        ),
    ],
)
async def test_each_auth_type_reaches_the_api_and_no_secret_comes_back(
    client, people, business_api, caplog, auth, expect
):
    admin = people.admin
    connection = await make_connection(client, admin, business_api, headers={"X-Shop": "1"}, **auth)
    assert SECRET not in str(connection)
    with capture_logs() as logs, caplog.at_level(logging.INFO):
        r = await client.post(
            f"/connections/{connection['id']}/test",
            json={"path": "/ping/{{id}}", "variables": {"id": "a b"}},
            headers=admin.headers,
        )
    assert r.status_code == 200, r.text
    report = r.json()["data"]
    assert (report["ok"], report["status"], report["error"]) == (True, 200, None)
    seen = business_api.last()
    assert seen.raw_path == "/v1/ping/a%20b" and seen.headers["x-shop"] == "1"
    assert expect(seen)
    # the API echoed the request, credentials included: what the caller reads has them redacted
    assert SECRET not in r.text and "Basic c2hvc" not in r.text
    assert SECRET not in str(logs) and SECRET not in caplog.text


async def test_secrets_are_encrypted_masked_and_revealed_only_to_admins_with_an_audit_entry(
    client, runtime, people, business_api
):
    admin = people.admin
    connection = await make_connection(
        client, admin, business_api, authType="BEARER", secrets={"token": SECRET}
    )
    assert connection["secrets"] == {"token": "••••••••cdef"}
    async with runtime.unit_of_work() as session:
        stored = await session.scalar(
            select(Connection.secrets_ciphertext).where(Connection.id == connection["id"])
        )
    assert stored and SECRET not in stored
    url = f"/connections/{connection['id']}/secrets"
    for member in (people.supervisor, people.agent):
        error_of(await client.get(url, headers=member.headers), 403, "FORBIDDEN")
    r = await client.get(url, headers=admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"secrets": {"token": SECRET}}
    [entry] = await audit_entries(runtime, people.org.id, "connection.secrets_revealed")
    assert entry.target_id == connection["id"] and SECRET not in str(entry.details)
    listed = (await client.get("/connections", headers=people.supervisor.headers)).json()["data"]
    assert [c["secrets"] for c in listed] == [{"token": "••••••••cdef"}]


async def test_update_keeps_masked_and_missing_secrets_and_null_removes(client, people, business_api):
    admin = people.admin
    connection = await make_connection(
        client, admin, business_api, authType="BASIC", secrets={"username": "shop-user", "password": SECRET}
    )
    body = {
        "name": "Renamed",
        "baseUrl": f"{business_api.url}/v2",
        "authType": "BASIC",
        "secrets": {"username": connection["secrets"]["username"]},  # sent back masked: kept
    }
    r = await client.put(f"/connections/{connection['id']}", json=body, headers=admin.headers)
    assert r.status_code == 200, r.text
    revealed = await client.get(f"/connections/{connection['id']}/secrets", headers=admin.headers)
    assert revealed.json()["data"]["secrets"] == {"username": "shop-user", "password": SECRET}
    body["secrets"] = {"password": None}
    r = await client.put(f"/connections/{connection['id']}", json=body, headers=admin.headers)
    assert bad_fields(r) == {"secrets.password"}
    body.update(authType="NONE", secrets={"username": None, "password": None})
    r = await client.put(f"/connections/{connection['id']}", json=body, headers=admin.headers)
    assert r.status_code == 200 and r.json()["data"]["secrets"] == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "baseUrl": "ftp://example.com"}, "baseUrl"),
        ({"name": "x", "baseUrl": "https://user:pw@example.com"}, "baseUrl"),
        ({"name": "x", "baseUrl": "https://example.com/?a=1"}, "baseUrl"),
        ({"name": "x", "baseUrl": "https://{{params.host}}.example.com"}, "baseUrl"),
        ({"name": "x", "baseUrl": "https://example.com", "authType": "BEARER"}, "secrets.token"),
        ({"name": "x", "baseUrl": "https://example.com", "authType": "MAGIC"}, "authType"),
        ({"name": "x", "baseUrl": "https://example.com", "secrets": {"other": "1"}}, "secrets.other"),
        ({"name": "x", "baseUrl": "https://example.com", "headers": {"Authorization": "x"}}, "headers"),
        ({"name": "x", "baseUrl": "https://example.com", "headers": {"Bad Name": "x"}}, "headers"),
        ({"name": "x", "baseUrl": "https://example.com", "timeoutMs": 60000}, "timeoutMs"),
        ({"name": " ", "baseUrl": "https://example.com"}, "name"),
    ],
)
async def test_invalid_connections_are_refused(client, people, body, field):
    r = await client.post("/connections", json=body, headers=people.admin.headers)
    assert any(name.startswith(field) for name in bad_fields(r)), bad_fields(r)


async def test_a_failing_remote_is_a_report_not_an_error(client, people, business_api):
    admin = people.admin
    connection = await make_connection(
        client, admin, business_api, authType="BEARER", secrets={"token": SECRET}
    )
    url = f"/connections/{connection['id']}/test"
    r = await client.post(url, json={"path": "/../status/503"}, headers=admin.headers)
    data = r.json()["data"]
    assert r.status_code == 200 and data["ok"] is False and data["status"] is None  # left the base path
    connection = await make_connection(
        client, admin, business_api, baseUrl=business_api.url, authType="BEARER", secrets={"token": SECRET}
    )
    url = f"/connections/{connection['id']}/test"
    r = await client.post(url, json={"path": "/status/503", "method": "POST"}, headers=admin.headers)
    data = r.json()["data"]
    assert r.status_code == 200 and (data["ok"], data["status"]) == (False, 503)
    assert "status 503" in data["bodyPreview"] and SECRET not in r.text
    # nobody listens there (a timed-out call ends the same way: the guard's OutboundUnavailable)
    closed = await make_connection(client, admin, business_api, baseUrl=f"http://127.0.0.1:{free_port()}")
    r = await client.post(f"/connections/{closed['id']}/test", json={}, headers=admin.headers)
    data = r.json()["data"]
    assert (
        r.status_code == 200
        and (data["ok"], data["status"]) == (False, None)
        and "did not answer" in data["error"]
    )


async def test_private_addresses_are_refused_with_the_switch_off(
    client, people, business_api, private_urls_refused
):
    admin = people.admin
    r = await client.post(
        "/connections", json={"name": "x", "baseUrl": "http://169.254.169.254/"}, headers=admin.headers
    )
    assert bad_fields(r) == {"baseUrl"}
    connection = await make_connection(
        client, admin, business_api, baseUrl=f"http://localhost:{business_api.port}"
    )
    before = business_api.count()
    r = await client.post(f"/connections/{connection['id']}/test", json={}, headers=admin.headers)
    data = r.json()["data"]
    assert r.status_code == 200 and data["ok"] is False and "not allowed" in data["error"]
    assert business_api.count() == before


async def test_delete_unlinks_tools_and_roles_and_other_organizations(client, people, business_api):
    admin = people.admin
    connection = await make_connection(client, admin, business_api)
    tool = await make_tool(client, admin, order_tool(connection["id"]))
    cid = connection["id"]
    for member in (people.supervisor, people.agent):
        update = {"name": "x", "baseUrl": "https://example.com"}
        error_of(
            await client.put(f"/connections/{cid}", json=update, headers=member.headers), 403, "FORBIDDEN"
        )
        error_of(await client.delete(f"/connections/{cid}", headers=member.headers), 403, "FORBIDDEN")
        error_of(
            await client.post(f"/connections/{cid}/test", json={}, headers=member.headers), 403, "FORBIDDEN"
        )
        error_of(await client.post("/connections", json=update, headers=member.headers), 403, "FORBIDDEN")
    error_of(await client.get("/connections", headers=people.agent.headers), 403, "FORBIDDEN")
    stranger = people.stranger.headers
    error_of(await client.get(f"/connections/{cid}/secrets", headers=stranger), 404, "NOT_FOUND")
    error_of(await client.post(f"/connections/{cid}/test", json={}, headers=stranger), 404, "NOT_FOUND")
    error_of(
        await client.put(
            f"/connections/{cid}", json={"name": "x", "baseUrl": "https://e.com"}, headers=stranger
        ),
        404,
        "NOT_FOUND",
    )
    error_of(await client.delete(f"/connections/{cid}", headers=stranger), 404, "NOT_FOUND")
    assert (await client.get("/connections", headers=stranger)).json()["data"] == []
    other_tool = order_tool(cid, name="foreign")
    error_of(await client.post("/tools", json=other_tool, headers=stranger), 404, "NOT_FOUND")
    error_of(await client.get("/connections"), 401, "UNAUTHORIZED")

    r = await client.delete(f"/connections/{cid}", headers=admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"id": cid, "deleted": True}
    [listed] = (await client.get("/tools", headers=admin.headers)).json()["data"]
    assert (listed["id"], listed["connectionId"]) == (tool["id"], None)
    r = await client.post(
        f"/tools/{tool['id']}/test", json={"params": {"orderId": "1"}}, headers=admin.headers
    )
    assert r.json()["data"]["ok"] is False and "connection" in r.json()["data"]["error"]


async def test_redirects_stay_on_the_connections_origin(client, people, web):
    admin = people.admin
    connection = await make_connection(
        client,
        admin,
        web,
        baseUrl=web.url,
        authType="API_KEY_HEADER",
        headerName="X-Key",
        secrets={"apiKey": SECRET},
    )
    url = f"/connections/{connection['id']}/test"
    r = await client.post(url, json={"path": f"/redirect?to={web.url}/headers"}, headers=admin.headers)
    data = r.json()["data"]
    assert (data["ok"], data["status"]) == (True, 200) and SECRET not in r.text  # same origin: followed
    elsewhere = f"http://localhost:{web.port}/headers"  # the same server under another name
    before = len(web.paths())
    r = await client.post(url, json={"path": f"/redirect?to={elsewhere}"}, headers=admin.headers)
    data = r.json()["data"]
    assert r.status_code == 200 and data["ok"] is False and "not allowed" in data["error"]
    assert web.paths()[before:] == ["/redirect"]
