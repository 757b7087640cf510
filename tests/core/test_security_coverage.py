"""Every operation is either explicitly public or refuses a caller without credentials.

Both tests read the application's own OpenAPI document, so routes added later are covered without
touching this file: a new secured route is called without credentials, and a new route without a
security requirement fails here until it is added to the public allow-list on purpose.
"""

from __future__ import annotations

import pytest

from cxinbox.app import API_PREFIX
from cxinbox.core.ids import new_id
from tests.fixtures.errors import error_of
from tests.fixtures.routes import PATH_PARAMETER, operations, secured, shape

#: Operations anyone may call (the reference's unauthenticated endpoints, files and webhooks), with
#: path parameters written as ``{}``.
PUBLIC_OPERATIONS = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/ready"),
        ("POST", "/auth/register"),
        ("POST", "/auth/login"),
        ("POST", "/auth/request-code"),
        ("POST", "/auth/verify-code"),
        ("POST", "/auth/refresh"),
        ("GET", "/config/branding"),
        ("GET", "/config/platform-stats"),
        # the pricing page reads it before sign-in; a token, as the reference's clients send, is ignored
        ("GET", "/config/public/plans"),
        ("GET", "/invitations/token/{}"),
        ("POST", "/invitations/accept/{}"),
        ("POST", "/n8n/bot-response"),
        ("GET", "/templates/{}/header-media"),
        ("GET", "/files/{}"),
        ("GET", "/webhooks/whatsapp"),
        ("POST", "/webhooks/whatsapp"),
        # signed by Stripe (Stripe-Signature over the raw body), not by a token of ours
        ("POST", "/webhooks/stripe"),
    }
)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer forged"}, {"X-API-Key": "cxk_deadbeef_forged"}],
    ids=["no-credentials", "forged-bearer", "forged-api-key"],
)
async def test_every_secured_operation_refuses_a_caller_without_valid_credentials(client, app, headers):
    called = []
    for method, path, operation in secured(app):
        url = PATH_PARAMETER.sub(lambda _: new_id(), path.removeprefix(API_PREFIX))
        body = {"json": {}} if "requestBody" in operation else {}
        response = await client.request(method, url, headers=headers, **body)
        assert response.status_code == 401, f"{method} {path}: {response.status_code} {response.text}"
        error_of(response, 401, "UNAUTHORIZED")
        called.append((method, shape(path)))
    # the walk really covers the identity area
    assert {("GET", "/auth/me"), ("DELETE", "/api-keys/{}")} <= set(called)


def test_only_allow_listed_operations_are_public(app):
    public = {(method, shape(path)) for method, path, op in operations(app) if not op.get("security")}
    assert public <= PUBLIC_OPERATIONS, (
        f"operations without a security requirement: {public - PUBLIC_OPERATIONS}"
    )


async def test_the_document_is_served_to_anyone(client, app):
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    assert r.json()["paths"] == app.openapi()["paths"]


def test_no_operation_is_declared_twice(app):
    """Two routers serving one method and path would shadow each other silently."""
    seen: set[tuple[str, str]] = set()
    for route in app.routes:
        for method in getattr(route, "methods", None) or ():
            key = (method, route.path)
            assert key not in seen, f"{method} {route.path} is declared twice"
            seen.add(key)
