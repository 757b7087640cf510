"""Without Stripe configured every billing endpoint answers 503; the super admin's price list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import stripe as stripe_sdk

from cxinbox.app import create_app
from cxinbox.billing.stripe_api import call, client_of
from cxinbox.config import Settings
from cxinbox.models.identity import Role
from tests.fixtures.api import running
from tests.fixtures.net import free_port
from tests.fixtures.people import error_code
from tests.fixtures.runtimes import started_runtime


@asynccontextmanager
async def client_on(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app of its own, with ``settings``."""
    async with (
        started_runtime(settings, redis_url=None, workers=False) as runtime,
        running(create_app(runtime.settings, runtime=runtime)) as client,
    ):
        yield client


ENDPOINTS = (
    ("POST", "/billing/checkout-session", {"plan": "STARTER"}),
    ("POST", "/billing/portal-session", None),
    ("POST", "/billing/extra-agents", {"quantity": 1}),
    ("GET", "/billing/subscription", None),
    ("POST", "/billing/preview-plan-change", {"plan": "STARTER"}),
    ("GET", "/billing/cancel-preview", None),
    ("POST", "/billing/cancel-subscription", None),
)


async def test_every_billing_endpoint_is_503_without_stripe(settings, factory):
    unconfigured = settings.model_copy(
        update={"stripe_secret_key": None, "stripe_webhook_secret": None, "stripe_api_base": None}
    )
    org = await factory.org()
    root = await factory.super_admin()
    async with client_on(unconfigured) as client:
        for method, path, body in ENDPOINTS:
            r = await client.request(method, path, json=body, headers=org.admin.headers)
            assert r.status_code == 503 and error_code(r) == "BILLING_NOT_CONFIGURED", (path, r.text)
            assert (await client.request(method, path, json=body)).status_code == 401
        r = await client.get("/admin/stripe/prices", headers=root.headers)
        assert r.status_code == 503 and error_code(r) == "BILLING_NOT_CONFIGURED"
        r = await client.post("/webhooks/stripe", content=b"{}", headers={"Stripe-Signature": "t=1,v1=x"})
        assert r.status_code == 503 and error_code(r) == "BILLING_NOT_CONFIGURED"


async def test_stripe_prices_grouped_by_product_for_the_super_admin(client, factory, stripe):
    root = await factory.super_admin()
    r = await client.get("/admin/stripe/prices", headers=root.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    names = {product["name"] for product in data["products"]}
    assert {"CX Inbox", "CX Inbox extra agents"} <= names
    keys = {key["lookupKey"]: key["priceId"] for key in data["lookupKeys"]}
    assert keys["cxinbox_starter_month"] == stripe.price_by_key("cxinbox_starter_month")["id"]
    assert len(keys) == 8 and all(keys.values())
    extra = next(
        p
        for product in data["products"]
        for p in product["prices"]
        if p["lookupKey"] == "cxinbox_extra_agents_year"
    )
    assert extra["blockSize"] == 5 and extra["plan"] is None and extra["interval"] == "year"
    org = await factory.org()
    assert (await client.get("/admin/stripe/prices", headers=org.admin.headers)).status_code == 403
    assert (await client.get("/admin/stripe/prices")).status_code == 401
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.get("/admin/stripe/prices", headers=agent.headers)).status_code == 403


async def test_a_refused_secret_key_is_503_and_stripe_errors_are_502(settings, factory, stripe):
    org = await factory.org()
    wrong_key = settings.model_copy(update={"stripe_secret_key": "sk_test_wrong"})
    async with client_on(wrong_key) as client:
        r = await client.post(
            "/billing/checkout-session", json={"plan": "STARTER"}, headers=org.admin.headers
        )
        assert r.status_code == 503 and error_code(r) == "BILLING_NOT_CONFIGURED"
    price = stripe.price_by_key("cxinbox_starter_month")
    del stripe.prices[price["id"]]  # listed by key a moment ago, gone when the session names it
    try:
        async with client_on(settings) as client:
            r = await client.post(
                "/billing/checkout-session", json={"plan": "STARTER"}, headers=org.admin.headers
            )
        assert r.status_code == 409 and error_code(r) == "PRICE_NOT_CONFIGURED"
    finally:
        stripe.prices[price["id"]] = price


async def test_stripe_unreachable_is_503_with_retry_after(settings, factory):
    org = await factory.org()
    unreachable = settings.model_copy(update={"stripe_api_base": f"http://127.0.0.1:{free_port()}"})
    async with client_on(unreachable) as client:
        r = await client.post(
            "/billing/checkout-session", json={"plan": "STARTER"}, headers=org.admin.headers
        )
    assert r.status_code == 503 and error_code(r) == "STRIPE_UNAVAILABLE"
    assert r.headers["Retry-After"] == "30"


async def test_a_stopping_runtime_closes_its_stripe_connections(settings, stripe, caplog):
    async with started_runtime(settings, redis_url=None, workers=False) as runtime:
        client = client_of(runtime)
        assert (await call(client.prices.list_async())).get("object") == "list"
    # the SDK logs each request's URL at INFO: not in our logs
    assert [r.getMessage() for r in caplog.records if r.name.startswith("stripe")] == []
    # the runtime stopped: its client's connection pool is closed, not left to the garbage collector
    with pytest.raises(stripe_sdk.APIConnectionError):
        await client.prices.list_async()
