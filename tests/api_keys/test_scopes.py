"""API key scopes: every route declares what a key needs, keys reach only their scopes, and no key
manages keys, users, invitations or credentials."""

from __future__ import annotations

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from cxinbox.app import API_PREFIX, ROUTERS
from cxinbox.auth.dependencies import api_key_scheme, bearer_scheme
from cxinbox.auth.scopes import ALL_SCOPES, declared_rule, required_scope
from cxinbox.core.ids import new_id
from cxinbox.models.identity import ApiKey, Role, User
from cxinbox.models.invitations import Invitation
from cxinbox.models.whatsapp import WhatsAppAccount
from tests.fixtures.api import bearer, create_api_key
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.routes import PATH_PARAMETER, secured


def routes() -> list[APIRoute]:
    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]


def calls(dependant: Dependant) -> set[object]:
    return {d.call for d in dependant.dependencies}.union(*(calls(d) for d in dependant.dependencies))


def takes_credentials(route: APIRoute) -> bool:
    return bool({bearer_scheme, api_key_scheme} & calls(route.dependant))


def route_of(method: str, path: str) -> APIRoute:
    [route] = [r for r in routes() if API_PREFIX + r.path == path and method in r.methods]
    return route


def test_every_route_that_takes_a_credential_declares_what_a_key_needs(app):
    """Walks the OpenAPI document: every operation with a security requirement is a route that
    declares either a scope or that no key may call it (undeclared would refuse keys, silently)."""
    undeclared = [
        (method, path) for method, path, _ in secured(app) if declared_rule(route_of(method, path)) is None
    ]
    assert undeclared == []
    # and the document tells clients: the scope, or null where no key may call
    for method, path, operation in secured(app):
        assert operation["x-api-key-scope"] == required_scope(route_of(method, path), method)
    for route in routes():
        assert declared_rule(route) is not None or not takes_credentials(route), route.path
        for method in route.methods:
            needed = required_scope(route, method)
            assert needed is None or needed in ALL_SCOPES, f"{method} {route.path} declares {needed}"


def refused_to_keys(app) -> list[tuple[str, str]]:
    return [(method, path) for method, path, op in secured(app) if op["x-api-key-scope"] is None]


def test_management_is_refused_to_keys(app):
    refused = set(refused_to_keys(app))
    expected = {
        ("POST", "/api-keys"),
        ("GET", "/api-keys"),
        ("POST", "/users"),
        ("PATCH", "/users/{id}"),
        ("DELETE", "/users/{id}"),
        ("POST", "/users/bulk"),
        ("POST", "/invitations"),
        ("POST", "/invitations/bulk"),
        ("POST", "/profile/change-password"),
        ("POST", "/auth/set-password"),
        ("POST", "/whatsapp-accounts/connect"),
        ("POST", "/whatsapp-accounts/connect-manual"),
        ("PATCH", "/whatsapp-accounts/{id}"),
        ("PUT", "/whatsapp-accounts/meta-config"),
        ("GET", "/admin/organizations"),
    }
    assert {(m, API_PREFIX + p) for m, p in expected} <= refused


@pytest.mark.parametrize("scopes", [None, list(ALL_SCOPES)], ids=["made-without-scopes", "every-scope"])
async def test_every_management_operation_answers_403_to_any_key(client, factory, app, scopes):
    org = await factory.org()
    key = bearer(
        (await create_api_key(client, org.admin.headers, **({"scopes": scopes} if scopes else {})))["key"]
    )
    for method, path in refused_to_keys(app):
        url = PATH_PARAMETER.sub(lambda _: new_id(), path.removeprefix(API_PREFIX))
        response = await client.request(method, url, headers=key, json={})
        error_of(response, 403, "FORBIDDEN")


async def count(runtime, model, *where) -> int:
    async with runtime.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_a_leaked_key_cannot_take_the_organization_over(client, factory, runtime, graph):
    """The attack: with a key found in a CRM's logs, mint a key of one's own, invite oneself as an
    admin, promote a member, re-point the organization's numbers at one's own WABA."""
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    leaked = bearer((await create_api_key(client, org.admin.headers))["key"])
    attacks = [
        client.post("/api-keys", json={"name": "mine"}, headers=leaked),
        client.post("/invitations", json={"email": "evil@example.com", "role": "ADMIN"}, headers=leaked),
        client.post(
            "/users", json={"email": "evil@example.com", "name": "Evil", "role": "ADMIN"}, headers=leaked
        ),
        client.patch(f"/users/{agent.id}", json={"role": "ADMIN"}, headers=leaked),
        client.post(
            "/users/bulk",
            json={"action": "setRole", "role": "ADMIN", "selection": {"mode": "ids", "ids": [agent.id]}},
            headers=leaked,
        ),
        client.post(
            "/whatsapp-accounts/connect-manual",
            json={"wabaId": "666", "phoneNumberId": "777", "accessToken": "evil-token"},
            headers=leaked,
        ),
        client.post("/whatsapp-accounts/connect", json={"code": "evil"}, headers=leaked),
    ]
    for attack in attacks:
        error_of(await attack, 403, "FORBIDDEN")
    assert await count(runtime, ApiKey, ApiKey.organization_id == org.id) == 1
    assert await count(runtime, Invitation, Invitation.organization_id == org.id) == 0
    assert await count(runtime, User, User.organization_id == org.id, User.role == Role.ADMIN) == 1
    assert await count(runtime, WhatsAppAccount, WhatsAppAccount.organization_id == org.id) == 0
    # what the key was made for still works
    assert (await client.get("/conversations", headers=leaked)).status_code == 200


async def test_a_key_reaches_only_its_scopes(client, factory):
    org = await factory.org()
    reader = bearer((await create_api_key(client, org.admin.headers, scopes=["tags:read"]))["key"])
    writer = bearer((await create_api_key(client, org.admin.headers, scopes=["tags:write"]))["key"])

    assert (await client.get("/tags", headers=reader)).status_code == 200
    error = error_of(await client.post("/tags", json={"name": "vip"}, headers=reader), 403, "FORBIDDEN")
    assert error["details"] == {"requiredScope": "tags:write"}
    error = error_of(await client.get("/conversations", headers=reader), 403, "FORBIDDEN")
    assert error["details"] == {"requiredScope": "conversations:read"}

    r = await client.post("/tags", json={"name": "vip"}, headers=writer)
    assert r.status_code == 201, r.text
    listed = await client.get("/tags", headers=writer)  # write includes read
    assert [t["name"] for t in listed.json()["data"]] == ["vip"]
    error_of(await client.get("/contacts", headers=writer), 403, "FORBIDDEN")


async def test_a_conversation_tag_is_a_change_of_the_conversation(client, factory):
    org = await factory.org()
    tags_only = bearer((await create_api_key(client, org.admin.headers, scopes=["tags:write"]))["key"])
    error = error_of(
        await client.post(f"/conversations/{new_id()}/tags", json={"tagId": new_id()}, headers=tags_only),
        403,
        "FORBIDDEN",
    )
    assert error["details"] == {"requiredScope": "conversations:write"}


async def test_the_event_stream_needs_conversations_read(client, factory):
    org = await factory.org()
    contacts = bearer((await create_api_key(client, org.admin.headers, scopes=["contacts:read"]))["key"])
    for response in (
        await client.post("/events/token", headers=contacts),
        await client.get("/events", headers=contacts),
    ):
        assert error_of(response, 403, "FORBIDDEN")["details"] == {"requiredScope": "conversations:read"}
    reader = bearer((await create_api_key(client, org.admin.headers, scopes=["conversations:read"]))["key"])
    assert (await client.post("/events/token", headers=reader)).status_code == 200


async def test_the_list_shows_each_keys_scopes(client, factory):
    org = await factory.org()
    scoped = await create_api_key(
        client, org.admin.headers, scopes=["contacts:write", "conversations:read", "contacts:write"]
    )
    assert set(scoped) >= {"id", "name", "prefix", "key"}
    assert scoped["scopes"] == ["conversations:read", "contacts:write"]
    unscoped = await create_api_key(client, org.admin.headers)
    assert unscoped["scopes"] is None
    listed = {
        k["id"]: k["scopes"]
        for k in (await client.get("/api-keys", headers=org.admin.headers)).json()["data"]
    }
    assert listed == {scoped["id"]: ["conversations:read", "contacts:write"], unscoped["id"]: None}


@pytest.mark.parametrize("scopes", [[], ["contacts:admin"], ["users:write"], "contacts:read", [1]])
async def test_unknown_scopes_are_refused(client, factory, scopes):
    org = await factory.org()
    r = await client.post("/api-keys", json={"name": "x", "scopes": scopes}, headers=org.admin.headers)
    assert bad_fields(r) == {"scopes"} or {f.split(".")[0] for f in bad_fields(r)} == {"scopes"}


def test_the_document_lists_the_scopes(app):
    body = app.openapi()["components"]["schemas"]["CreateApiKey"]["properties"]["scopes"]
    assert "Addition to the reference" in body["description"]
    assert all(scope in str(body) for scope in ALL_SCOPES)
