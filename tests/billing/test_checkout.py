"""Checkout, the customer portal and the subscription's state, over HTTP against the fake Stripe."""

from __future__ import annotations

from datetime import UTC, datetime

from cxinbox.models.identity import Plan, Role
from tests.billing.helpers import delivered, organization, subscribe
from tests.fakes.stripe import API_VERSION
from tests.fixtures.people import error_code


async def test_checkout_then_the_webhook_moves_the_plan(client, runtime, factory, stripe):
    org = await factory.org()
    r = await client.post(
        "/billing/checkout-session",
        json={"plan": "PROFESSIONAL", "interval": "year", "successUrl": "https://acme.example/ok"},
        headers=org.admin.headers,
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["url"].startswith("https://checkout.stripe.com/") and data["sessionId"].startswith("cs_")
    _, _, params, version = next(
        req
        for req in stripe.requests
        if req[1] == "/v1/checkout/sessions" and req[2]["client_reference_id"] == org.id
    )
    assert version is not None and version >= API_VERSION[:10]
    assert params["line_items"][0]["price"] == stripe.price_by_key("cxinbox_professional_year")["id"]
    assert params["client_reference_id"] == org.id and params["success_url"] == "https://acme.example/ok"
    assert (await organization(runtime, org.id)).plan == Plan.FREE  # nothing changes before Stripe says so

    paid = stripe.complete_checkout(data["sessionId"])
    await delivered(client, runtime, paid)
    assert (await organization(runtime, org.id)).plan == Plan.PROFESSIONAL
    r = await client.get("/billing/subscription", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    state = r.json()["data"]
    item_end = stripe.subscriptions[paid["data"]["object"]["subscription"]]["items"]["data"][0][
        "current_period_end"
    ]
    assert state == {
        "plan": "PROFESSIONAL",
        "status": "ACTIVE",
        "interval": "year",
        "currentPeriodEnd": datetime.fromtimestamp(item_end, UTC).isoformat().replace("+00:00", "Z"),
        "cancelAtPeriodEnd": False,
        "extraAgentBlocks": 0,
        "seats": 20,
        "blockSize": 5,
    }


async def test_checkout_refuses_bad_bodies_roles_and_a_second_subscription(client, runtime, factory, stripe):
    org = await factory.org()
    for body in (
        {"plan": "FREE"},
        {"plan": "GOLD"},
        {"plan": "STARTER", "interval": "week"},
        {"plan": "STARTER", "successUrl": "javascript:alert(1)"},
        {},
    ):
        r = await client.post("/billing/checkout-session", json=body, headers=org.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", (body, r.text)
    assert (await client.post("/billing/checkout-session", json={"plan": "STARTER"})).status_code == 401
    for role in (Role.AGENT, Role.SUPERVISOR):
        member = await factory.member(org.id, role)
        r = await client.post("/billing/checkout-session", json={"plan": "STARTER"}, headers=member.headers)
        assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    await subscribe(client, runtime, stripe, org)
    r = await client.post("/billing/checkout-session", json={"plan": "ENTERPRISE"}, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "SUBSCRIPTION_EXISTS"


async def test_checkout_without_a_configured_price_is_409(client, factory, stripe):
    org = await factory.org()
    price = stripe.price_by_key("cxinbox_enterprise_year")
    price["active"] = False
    try:
        r = await client.post(
            "/billing/checkout-session",
            json={"plan": "ENTERPRISE", "interval": "year"},
            headers=org.admin.headers,
        )
    finally:
        price["active"] = True
    assert r.status_code == 409 and error_code(r) == "PRICE_NOT_CONFIGURED"
    assert r.json()["error"]["details"] == {"lookupKey": "cxinbox_enterprise_year"}


async def test_one_customer_per_organization(client, factory, stripe):
    org = await factory.org()
    for _ in range(2):
        r = await client.post(
            "/billing/checkout-session", json={"plan": "STARTER"}, headers=org.admin.headers
        )
        assert r.status_code == 200, r.text
    ids = {s["customer"] for s in stripe.sessions.values() if s["client_reference_id"] == org.id}
    assert len(ids) == 1 and stripe.customers[ids.pop()]["metadata"] == {"organization_id": org.id}


async def test_portal_session(client, runtime, factory, stripe):
    org = await factory.org()
    r = await client.post("/billing/portal-session", headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "NO_BILLING_ACCOUNT"
    await subscribe(client, runtime, stripe, org)
    r = await client.post(
        "/billing/portal-session", json={"returnUrl": "https://acme.example/back"}, headers=org.admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["url"].startswith("https://billing.stripe.com/p/session/")
    r = await client.post("/billing/portal-session", json={"returnUrl": "ftp://x"}, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert (await client.post("/billing/portal-session")).status_code == 401
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.post("/billing/portal-session", headers=agent.headers)).status_code == 403


async def test_subscription_without_one_and_roles(client, factory):
    org = await factory.org(plan=Plan.STARTER)
    r = await client.get("/billing/subscription", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "NONE" and r.json()["data"]["plan"] == "STARTER"
    assert r.json()["data"]["seats"] == 5
    assert (await client.get("/billing/subscription")).status_code == 401
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.get("/billing/subscription", headers=agent.headers)).status_code == 403
