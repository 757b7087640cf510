"""Billing test helpers: Stripe's webhook deliveries, and an organization that has subscribed."""

from __future__ import annotations

import json
from typing import Any

import httpx

from cxinbox.models.billing import StripeEvent
from cxinbox.models.identity import Organization
from cxinbox.runtime import Runtime
from tests.fakes.stripe import FakeStripe, sign
from tests.fixtures.factories import Org
from tests.fixtures.wait import eventually


async def deliver(
    client: httpx.AsyncClient, event: dict[str, Any], *, at: int | None = None, secret: str | None = None
) -> httpx.Response:
    """Post ``event`` to the webhook as Stripe does (signed now, or at ``at``, with ``secret``)."""
    body = json.dumps(event).encode()
    signature = sign(body, at=at) if secret is None else sign(body, secret, at)
    return await client.post(
        "/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def organization(runtime: Runtime, org_id: str) -> Organization:
    async with runtime.read_session(current=True) as session:
        org = await session.get(Organization, org_id)
        assert org is not None
        return org


async def processed(runtime: Runtime, event_id: str) -> bool:
    async with runtime.read_session(current=True) as session:
        event = await session.get(StripeEvent, event_id)
        return event is not None and event.processed_at is not None


async def delivered(client: httpx.AsyncClient, runtime: Runtime, event: dict[str, Any]) -> None:
    """Deliver ``event`` and wait until it is applied."""
    r = await deliver(client, event)
    assert r.status_code == 200, r.text
    await eventually(lambda: processed(runtime, event["id"]), f"{event['type']} applied")


async def subscribe(
    client: httpx.AsyncClient, runtime: Runtime, stripe: FakeStripe, org: Org, plan: str = "STARTER"
) -> str:
    """Check out ``plan``, pay at the fake Stripe and deliver its webhook; the subscription id."""
    r = await client.post("/billing/checkout-session", json={"plan": plan}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    paid = stripe.complete_checkout(r.json()["data"]["sessionId"])
    await delivered(client, runtime, paid)
    subscription_id: str = paid["data"]["object"]["subscription"]
    return subscription_id
