"""Extra agent blocks, plan-change and cancellation previews, cancellation at period end."""

from __future__ import annotations

from cxinbox.models.identity import Plan, Role
from tests.billing.helpers import delivered, organization, subscribe
from tests.fixtures.people import error_code


async def test_extra_agent_blocks_raise_the_seat_limit(client, runtime, factory, stripe):
    org = await factory.org()
    r = await client.post("/billing/extra-agents", json={"quantity": 1}, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "NO_SUBSCRIPTION"
    subscription_id = await subscribe(client, runtime, stripe, org)
    for bad in ({"quantity": 0}, {"quantity": 101}, {"quantity": "many"}):
        r = await client.post("/billing/extra-agents", json=bad, headers=org.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", bad
    r = await client.post("/billing/extra-agents", json={"quantity": 2}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["extraAgentBlocks"] == 2 and r.json()["data"]["seats"] == 5 + 2 * 5
    r = await client.post("/billing/extra-agents", headers=org.admin.headers)  # no body: one block
    assert r.json()["data"]["extraAgentBlocks"] == 3
    items = stripe.subscriptions[subscription_id]["items"]["data"]
    assert [(i["price"]["lookup_key"], i["quantity"]) for i in items] == [
        ("cxinbox_starter_month", 1),
        ("cxinbox_extra_agents_month", 3),
    ]
    usage = (await client.get("/plan/usage", headers=org.admin.headers)).json()["data"]
    assert usage["limits"]["seats"]["limit"] == 20
    # Stripe's own event of the change confirms it
    await delivered(client, runtime, stripe.subscription_event(subscription_id))
    assert (await organization(runtime, org.id)).extra_seats == 15
    assert (await client.post("/billing/extra-agents")).status_code == 401
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.post("/billing/extra-agents", headers=agent.headers)).status_code == 403


async def test_preview_plan_change_names_gains_losses_and_proration(client, runtime, factory, stripe):
    org = await factory.org()
    r = await client.post(
        "/billing/preview-plan-change", json={"plan": "PROFESSIONAL"}, headers=org.admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["proration"] is None  # nothing to prorate without a subscription
    await subscribe(client, runtime, stripe, org)
    r = await client.post(
        "/billing/preview-plan-change", json={"plan": "PROFESSIONAL"}, headers=org.admin.headers
    )
    assert r.status_code == 200, r.text
    preview = r.json()["data"]
    assert preview["currentPlan"] == "STARTER" and preview["newPlan"] == "PROFESSIONAL"
    assert "seats" in preview["gained"] and preview["lost"] == []
    seats = next(limit for limit in preview["limits"] if limit["name"] == "seats")
    assert seats == {"name": "seats", "current": 5, "new": 20, "used": 1, "change": "GAINED", "overLimit": 0}
    proration = preview["proration"]
    assert proration["currency"] == "usd" and any(line["proration"] for line in proration["lines"])
    assert proration["total"] > 0 and proration["amountDue"] == proration["total"]
    sent = [req for req in stripe.requests if req[1] == "/v1/invoices/create_preview"][-1][2]
    assert (
        sent["subscription_details"]["items"][0]["price"]
        == stripe.price_by_key("cxinbox_professional_month")["id"]
    )

    for _ in range(2):
        await factory.member(org.id, Role.AGENT)
    r = await client.post("/billing/preview-plan-change", json={"plan": "FREE"}, headers=org.admin.headers)
    preview = r.json()["data"]
    assert (
        "seats" in preview["lost"] and "whatsappNumbers" in preview["lost"] and preview["proration"] is None
    )
    seats = next(limit for limit in preview["limits"] if limit["name"] == "seats")
    assert seats["new"] == 2 and seats["used"] == 3 and seats["overLimit"] == 1
    assert "Nothing is deleted" in preview["rule"]
    for bad in ({"plan": "GOLD"}, {"plan": "STARTER", "interval": "day"}, {}):
        r = await client.post("/billing/preview-plan-change", json=bad, headers=org.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert (await client.post("/billing/preview-plan-change", json={"plan": "FREE"})).status_code == 401
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.post("/billing/preview-plan-change", json={"plan": "FREE"}, headers=agent.headers)
    assert r.status_code == 403


async def test_cancel_preview_and_cancellation_at_period_end(client, runtime, factory, stripe):
    org = await factory.org()
    for path, method in (("/billing/cancel-preview", "GET"), ("/billing/cancel-subscription", "POST")):
        r = await client.request(method, path, headers=org.admin.headers)
        assert r.status_code == 409 and error_code(r) == "NO_SUBSCRIPTION"
        assert (await client.request(method, path)).status_code == 401
        agent = await factory.member(org.id, Role.AGENT)
        assert (await client.request(method, path, headers=agent.headers)).status_code == 403
    subscription_id = await subscribe(client, runtime, stripe, org, plan="PROFESSIONAL")
    state = (await client.get("/billing/subscription", headers=org.admin.headers)).json()["data"]
    r = await client.get("/billing/cancel-preview", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    preview = r.json()["data"]
    assert preview["currentPlan"] == "PROFESSIONAL" and preview["newPlan"] == "FREE"
    assert preview["effectiveAt"] == state["currentPeriodEnd"]
    assert {"seats", "whatsappNumbers", "campaigns"} <= set(preview["lost"])

    r = await client.post("/billing/cancel-subscription", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["cancelAtPeriodEnd"] is True and r.json()["data"]["plan"] == "PROFESSIONAL"
    assert stripe.subscriptions[subscription_id]["cancel_at_period_end"] is True
    await delivered(client, runtime, stripe.subscription_event(subscription_id, "deleted"))
    assert (await organization(runtime, org.id)).plan == Plan.FREE
    r = await client.post("/billing/cancel-subscription", headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "NO_SUBSCRIPTION"
