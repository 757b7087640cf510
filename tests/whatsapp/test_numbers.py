"""``/whatsapp-accounts``: connect, list, update, disconnect, health, meta-config."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cxinbox.models.identity import Plan, Role
from cxinbox.models.whatsapp import AccountStatus, WhatsAppAccount
from tests.fixtures.api import bearer, create_api_key
from tests.fixtures.whatsapp import deliver, for_number, messages_of, sample, unique_number


def connect_body(graph, **overrides) -> dict:
    token = f"token-{uuid.uuid4().hex}"
    number = unique_number()
    graph.add_number(number, token, display="+1 555 0123")
    return {"wabaId": unique_number(), "phoneNumberId": number, "accessToken": token} | overrides


async def connect(client, headers, body) -> dict:
    r = await client.post("/whatsapp-accounts/connect-manual", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def test_connect_manual_list_and_the_token_is_never_returned(client, factory, graph, runtime):
    org = await factory.org()
    body = connect_body(graph, alias="Support", appSecret="own-secret")
    account = await connect(client, org.admin.headers, body)
    assert account["phoneNumberId"] == body["phoneNumberId"]
    assert account["wabaId"] == body["wabaId"]
    assert account["alias"] == "Support"
    assert account["status"] == "CONNECTED"
    assert account["displayPhoneNumber"] == "+1 555 0123"  # asked from Meta
    assert account["verifiedName"] == "Acme Support"
    assert account["qualityRating"] == "GREEN"
    assert account["hasOwnAppSecret"] is True
    r = await client.get("/whatsapp-accounts", headers=org.admin.headers)
    assert r.status_code == 200
    assert [a["id"] for a in r.json()["data"]] == [account["id"]]
    assert body["accessToken"] not in r.text and "own-secret" not in r.text
    async with runtime.sessionmaker() as session:
        row = await session.get_one(WhatsAppAccount, account["id"])
    assert body["accessToken"] not in row.access_token_encrypted
    assert runtime.secrets.decrypt(row.access_token_encrypted) == body["accessToken"]


async def test_another_organizations_number_is_already_connected(client, factory, graph):
    first, second = await factory.org(), await factory.org(plan=Plan.PROFESSIONAL)
    body = connect_body(graph)
    await connect(client, first.admin.headers, body)
    r = await client.post("/whatsapp-accounts/connect-manual", json=body, headers=second.admin.headers)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "ALREADY_CONNECTED"


async def test_an_api_key_use_is_counted_once_when_a_call_to_meta_precedes_the_failure(
    client, factory, graph
):
    """No key connects a number (403 before Meta is called); the refused use is counted once."""
    first, second = await factory.org(), await factory.org(plan=Plan.PROFESSIONAL)
    body = connect_body(graph)
    await connect(client, first.admin.headers, body)
    created = await create_api_key(client, second.admin.headers)
    r = await client.post("/whatsapp-accounts/connect-manual", json=body, headers=bearer(created["key"]))
    assert r.status_code == 403, r.text
    keys = (await client.get("/api-keys", headers=second.admin.headers)).json()["data"]
    [used] = [k for k in keys if k["id"] == created["id"]]
    assert used["usageCount"] == 1


async def test_reconnecting_the_same_number_updates_the_account(client, factory, graph):
    org = await factory.org()
    body = connect_body(graph)
    first = await connect(client, org.admin.headers, body)
    new_token = f"token-{uuid.uuid4().hex}"
    graph.add_number(body["phoneNumberId"], new_token, display="+1 555 0123")
    r = await client.post(
        "/whatsapp-accounts/connect-manual",
        json=body | {"accessToken": new_token, "alias": "Renamed"},
        headers=org.admin.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["id"] == first["id"]
    assert r.json()["data"]["alias"] == "Renamed"


async def test_plan_limit_of_whatsapp_numbers(client, factory, graph):
    org = await factory.org(plan=Plan.FREE)  # one number
    await connect(client, org.admin.headers, connect_body(graph))
    r = await client.post(
        "/whatsapp-accounts/connect-manual", json=connect_body(graph), headers=org.admin.headers
    )
    assert r.status_code == 402
    assert r.json()["error"]["details"]["limit"] == "whatsappNumbers"


async def test_a_token_meta_rejects_is_a_validation_error(client, factory, graph):
    org = await factory.org()
    body = connect_body(graph) | {"accessToken": "not-a-token"}
    r = await client.post("/whatsapp-accounts/connect-manual", json=body, headers=org.admin.headers)
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "accessToken"


@pytest.mark.parametrize(
    "body",
    [{}, {"wabaId": "1", "phoneNumberId": "2"}, {"wabaId": "x", "phoneNumberId": "2", "accessToken": "t"}],
)
async def test_connect_manual_validation(client, factory, body):
    org = await factory.org()
    r = await client.post("/whatsapp-accounts/connect-manual", json=body, headers=org.admin.headers)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_update_alias_and_token(client, factory, graph, runtime):
    org = await factory.org()
    account = await connect(client, org.admin.headers, connect_body(graph))
    r = await client.patch(
        f"/whatsapp-accounts/{account['id']}",
        json={"alias": "Sales", "accessToken": "rotated"},
        headers=org.admin.headers,
    )
    assert r.status_code == 200
    assert r.json()["data"]["alias"] == "Sales"
    async with runtime.sessionmaker() as session:
        row = await session.get_one(WhatsAppAccount, account["id"])
    assert runtime.secrets.decrypt(row.access_token_encrypted) == "rotated"
    r = await client.patch(
        f"/whatsapp-accounts/{account['id']}", json={"alias": "x" * 500}, headers=org.admin.headers
    )
    assert r.status_code == 400


async def test_disconnect_stops_routing_and_frees_the_number(client, factory, graph, runtime):
    org, other = await factory.org(), await factory.org()
    body = connect_body(graph)
    account = await connect(client, org.admin.headers, body)
    r = await client.delete(f"/whatsapp-accounts/{account['id']}", headers=org.admin.headers)
    assert r.status_code == 200
    assert r.json()["data"] == {"id": account["id"], "deleted": True}
    assert (await client.get("/whatsapp-accounts", headers=org.admin.headers)).json()["data"] == []
    event = await deliver(client, runtime, for_number(sample("message.json", "text"), body["phoneNumberId"]))
    assert event.organization_id is None
    assert await messages_of(runtime, org.id) == []
    # the number can now be connected by another organization
    await connect(client, other.admin.headers, body)
    r = await client.delete(f"/whatsapp-accounts/{account['id']}", headers=org.admin.headers)
    assert r.status_code == 404


async def test_health_asks_meta(client, factory, graph):
    org = await factory.org()
    body = connect_body(graph)
    account = await connect(client, org.admin.headers, body)
    graph.state.phone_numbers[body["phoneNumberId"]].quality_rating = "YELLOW"
    r = await client.get(f"/whatsapp-accounts/{account['id']}/health", headers=org.admin.headers)
    assert r.status_code == 200
    health = r.json()["data"]
    assert (health["healthy"], health["qualityRating"], health["throughput"]) == (True, "YELLOW", "STANDARD")
    graph.state.tokens.discard(body["accessToken"])
    r = await client.get(f"/whatsapp-accounts/{account['id']}/health", headers=org.admin.headers)
    health = r.json()["data"]
    assert (health["healthy"], health["status"], health["error"]["code"]) == (False, "TOKEN_INVALID", 190)


async def test_a_slow_meta_holds_up_no_other_write(client, factory, graph):
    """While a request waits on the Graph API it holds no transaction: on SQLite a held one would
    keep every other write of the process waiting for Meta."""
    org = await factory.org()
    account = await connect(client, org.admin.headers, connect_body(graph))
    graph.state.node_delay = 1.0
    finished: list[str] = []

    async def check_health() -> None:
        r = await client.get(f"/whatsapp-accounts/{account['id']}/health", headers=org.admin.headers)
        assert r.status_code == 200, r.text
        finished.append("health")

    async def create_tag() -> None:
        await asyncio.sleep(0.2)  # the health request is waiting on Meta by now
        r = await client.post("/tags", json={"name": "vip"}, headers=org.admin.headers)
        assert r.status_code == 201, r.text
        finished.append("tag")

    await asyncio.gather(check_health(), create_tag())
    assert finished == ["tag", "health"]


async def test_connect_with_embedded_signup(client, factory, graph):
    org = await factory.org()
    token = f"business-token-{uuid.uuid4().hex}"
    code = f"code-{uuid.uuid4().hex}"
    graph.add_code(code, token)
    number, waba = unique_number(), unique_number()
    graph.add_number(number, token)
    r = await client.post(
        "/whatsapp-accounts/connect",
        json={"code": code, "wabaId": waba, "phoneNumberId": number, "pin": "123456"},
        headers=org.admin.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["phoneNumberId"] == number
    assert waba in graph.state.subscribed_wabas and number in graph.state.registered
    r = await client.post(
        "/whatsapp-accounts/connect",
        json={"code": "bad-code", "wabaId": waba, "phoneNumberId": number},
        headers=org.admin.headers,
    )
    assert r.status_code == 400
    r = await client.post("/whatsapp-accounts/connect", json={}, headers=org.admin.headers)
    assert r.status_code == 400


async def test_meta_config(client, factory):
    org = await factory.org()
    r = await client.get("/whatsapp-accounts/meta-config", headers=org.admin.headers)
    assert r.status_code == 200
    assert r.json()["data"]["appId"] == "test-meta-app"
    r = await client.put(
        "/whatsapp-accounts/meta-config", json={"appId": "123", "configId": "456"}, headers=org.admin.headers
    )
    assert r.status_code == 200
    assert (r.json()["data"]["appId"], r.json()["data"]["configId"]) == ("123", "456")
    r = await client.put(
        "/whatsapp-accounts/meta-config", json={"appId": 5 * "x" * 20}, headers=org.admin.headers
    )
    assert r.status_code == 400


ENDPOINTS = [
    ("GET", "/whatsapp-accounts", None),
    ("POST", "/whatsapp-accounts/connect-manual", {"wabaId": "1", "phoneNumberId": "2", "accessToken": "t"}),
    ("POST", "/whatsapp-accounts/connect", {"code": "c"}),
    ("GET", "/whatsapp-accounts/meta-config", None),
    ("PUT", "/whatsapp-accounts/meta-config", {"appId": "1"}),
    ("PATCH", "/whatsapp-accounts/{id}", {"alias": "a"}),
    ("DELETE", "/whatsapp-accounts/{id}", None),
    ("GET", "/whatsapp-accounts/{id}/health", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_no_token_is_401(client, method, path, body):
    r = await client.request(method, path.format(id="x"), json=body)
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"), [e for e in ENDPOINTS if e[0] != "GET" or "health" in e[1] or "meta" in e[1]]
)
async def test_an_agent_is_403(client, factory, graph, method, path, body):
    org = await factory.org()
    account = await connect(client, org.admin.headers, connect_body(graph))
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.request(method, path.format(id=account["id"]), json=body, headers=agent.headers)
    assert r.status_code == 403


@pytest.mark.parametrize(("method", "path", "body"), [e for e in ENDPOINTS if "{id}" in e[1]])
async def test_another_organizations_account_is_404(client, factory, graph, method, path, body):
    owner, intruder = await factory.org(), await factory.org()
    account = await connect(client, owner.admin.headers, connect_body(graph))
    r = await client.request(method, path.format(id=account["id"]), json=body, headers=intruder.admin.headers)
    assert r.status_code == 404


async def test_an_agent_may_list_numbers(client, factory, graph):
    org = await factory.org()
    await connect(client, org.admin.headers, connect_body(graph))
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.get("/whatsapp-accounts", headers=agent.headers)
    assert r.status_code == 200 and len(r.json()["data"]) == 1


async def test_the_openapi_document_describes_every_account_state(client):
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert set(schemas["AccountStatus"]["enum"]) == {s.value for s in AccountStatus}
    description = schemas["WhatsAppAccountOut"]["properties"]["status"]["description"]
    assert all(state in description for state in ("TOKEN_INVALID", "DISABLED", "DELETED"))
