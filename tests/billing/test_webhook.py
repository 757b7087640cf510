"""Stripe's webhook: signatures, replays, out-of-order deliveries, deletion and failed payments."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from cxinbox.billing.tasks import sweep_stripe_events
from cxinbox.core.clock import utcnow
from cxinbox.models.billing import BillingAccount, StripeEvent
from cxinbox.models.identity import OrganizationStatus, Plan, Role
from tests.billing.helpers import deliver, delivered, organization, processed, subscribe
from tests.fakes.stripe import event, sign
from tests.fixtures.people import error_code
from tests.fixtures.wait import eventually


async def stored(runtime, event_id: str) -> int:
    async with runtime.read_session(current=True) as session:
        return int(await session.scalar(select(func.count()).where(StripeEvent.id == event_id)) or 0)


async def test_forged_stale_and_unsigned_events_are_refused_and_not_stored(client, runtime, factory, stripe):
    org = await factory.org()
    subscription_id = await subscribe(client, runtime, stripe, org)
    deleted = stripe.subscription_event(subscription_id, "deleted")
    forged = await deliver(client, deleted, secret="whsec_attacker")
    stale = await deliver(client, deleted, at=int(time.time()) - 301)
    body = json.dumps(deleted).encode()
    unsigned = await client.post(
        "/webhooks/stripe", content=body, headers={"Content-Type": "application/json"}
    )
    tampered = await client.post(
        "/webhooks/stripe",
        content=body.replace(b"canceled", b"cancelex"),
        headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"},
    )
    for r in (forged, stale, unsigned, tampered):
        assert r.status_code == 400 and error_code(r) == "INVALID_SIGNATURE", r.text
    assert await stored(runtime, deleted["id"]) == 0
    assert (await organization(runtime, org.id)).plan == Plan.STARTER


async def test_a_signed_body_that_is_not_an_event_is_400(client):
    body = b'{"id": 5}'
    r = await client.post(
        "/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


async def test_a_replayed_event_is_acknowledged_and_applied_once(client, runtime, factory, stripe, smtp):
    org = await factory.org()
    subscription_id = await subscribe(client, runtime, stripe, org)
    failed = stripe.payment_failed(subscription_id)
    first = await deliver(client, failed)
    assert first.status_code == 200 and first.json()["data"] == {
        "id": failed["id"],
        "received": True,
        "duplicate": False,
    }
    await smtp.wait_for(org.admin.email)
    again = await deliver(client, failed)
    assert again.status_code == 200 and again.json()["data"]["duplicate"] is True
    assert await stored(runtime, failed["id"]) == 1
    await delivered(client, runtime, stripe.subscription_event(subscription_id))  # a later event is applied
    assert len(smtp.messages_to(org.admin.email)) == 1


async def test_events_out_of_order_never_roll_the_state_back(client, runtime, factory, stripe):
    org = await factory.org()
    subscription_id = await subscribe(client, runtime, stripe, org)
    now = int(time.time())
    subscription = stripe.subscriptions[subscription_id]
    plan_item = subscription["items"]["data"][0]
    older = event("customer.subscription.updated", json.loads(json.dumps(subscription)), created=now + 5)
    plan_item["price"] = dict(stripe.price_by_key("cxinbox_professional_month"))
    newer = event("customer.subscription.updated", json.loads(json.dumps(subscription)), created=now + 10)
    await delivered(client, runtime, newer)
    assert (await organization(runtime, org.id)).plan == Plan.PROFESSIONAL
    await delivered(client, runtime, older)  # arrives late: it changes nothing
    assert (await organization(runtime, org.id)).plan == Plan.PROFESSIONAL

    deleted = stripe.subscription_event(subscription_id, "deleted")
    deleted["created"] = now + 20
    await delivered(client, runtime, deleted)
    revived = event(
        "customer.subscription.updated", {**deleted["data"]["object"], "status": "active"}, created=now + 20
    )
    await delivered(client, runtime, revived)  # a deleted subscription never comes back
    assert (await organization(runtime, org.id)).plan == Plan.FREE


async def test_deletion_drops_to_free_without_suspending(client, runtime, factory, stripe):
    org = await factory.org()
    subscription_id = await subscribe(client, runtime, stripe, org, plan="ENTERPRISE")
    assert (await organization(runtime, org.id)).plan == Plan.ENTERPRISE
    await delivered(client, runtime, stripe.subscription_event(subscription_id, "deleted"))
    after = await organization(runtime, org.id)
    assert after.plan == Plan.FREE and after.status == OrganizationStatus.ACTIVE and after.extra_seats == 0
    r = await client.get("/billing/subscription", headers=org.admin.headers)
    assert r.json()["data"]["status"] == "CANCELED" and r.json()["data"]["seats"] == 2
    # an organization on FREE again may check out anew
    r = await client.post("/billing/checkout-session", json={"plan": "STARTER"}, headers=org.admin.headers)
    assert r.status_code == 200, r.text


async def test_payment_failed_marks_past_due_and_mails_the_admins(client, runtime, factory, stripe, smtp):
    org = await factory.org()
    second_admin = await factory.member(org.id, Role.ADMIN)
    agent = await factory.member(org.id, Role.AGENT)
    subscription_id = await subscribe(client, runtime, stripe, org, plan="PROFESSIONAL")
    await delivered(client, runtime, stripe.payment_failed(subscription_id))
    r = await client.get("/billing/subscription", headers=org.admin.headers)
    assert r.json()["data"]["status"] == "PAST_DUE" and r.json()["data"]["plan"] == "PROFESSIONAL"
    for admin in (org.admin, second_admin):
        [mail] = await smtp.wait_for(admin.email)
        assert "payment failed" in mail["Subject"] and "99.00 USD" in smtp.body(mail)
    assert smtp.messages_to(agent.email) == []


async def test_an_event_cannot_take_over_another_organizations_account(client, runtime, factory, stripe):
    victim, attacker = await factory.org(), await factory.org()
    victim_subscription = await subscribe(client, runtime, stripe, victim, plan="PROFESSIONAL")
    await subscribe(client, runtime, stripe, attacker)
    # a subscription of a customer unknown here whose metadata names the victim, which has a customer
    stranger = {**stripe.subscriptions[victim_subscription], "id": "sub_stranger", "customer": "cus_stranger"}
    stranger = {**stranger, "status": "canceled", "metadata": {"organization_id": victim.id}}
    await delivered(client, runtime, event("customer.subscription.deleted", stranger))
    assert (await organization(runtime, victim.id)).plan == Plan.PROFESSIONAL
    async with runtime.read_session(current=True) as session:
        customers = await session.scalars(
            select(BillingAccount.stripe_customer_id).where(BillingAccount.organization_id == victim.id)
        )
        assert list(customers) != ["cus_stranger"]


async def test_events_of_types_billing_ignores_are_stored_and_marked_processed(client, runtime):
    ignored = event("customer.created", {"id": "cus_x", "object": "customer"})
    await delivered(client, runtime, ignored)
    await eventually(lambda: stored(runtime, ignored["id"]), "stored")


async def test_the_sweeper_applies_an_event_whose_job_was_lost(client, runtime, factory, stripe):
    org = await factory.org()
    subscription_id = await subscribe(client, runtime, stripe, org)
    deleted = stripe.subscription_event(subscription_id, "deleted")
    async with runtime.unit_of_work() as session:  # stored, then the process died before its job ran
        session.add(
            StripeEvent(
                id=deleted["id"],
                type=deleted["type"],
                payload=deleted,
                created=datetime.fromtimestamp(deleted["created"], UTC),
                received_at=utcnow() - timedelta(minutes=5),
                attempts=0,
            )
        )
    async with runtime.unit_of_work() as session:
        await sweep_stripe_events(runtime, session)
    await eventually(lambda: processed(runtime, deleted["id"]), "the swept event applied")
    assert (await organization(runtime, org.id)).plan == Plan.FREE
