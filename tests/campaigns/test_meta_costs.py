"""Meta's real costs: ``pricing_analytics`` read from the fake Graph API in Meta's format, by
category and country, cached for an hour; a campaign's cost approximated by its category and days."""

from __future__ import annotations

import time

import pytest

from tests.campaigns.helpers import create, phones, template, until
from tests.fakes.graph_pricing import PricePoint
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import error_code


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


async def test_meta_costs_by_category_and_country_cached(inbox, client, runtime, graph):
    yesterday = int(time.time()) - 86_400
    waba = inbox.account.waba_id
    graph.pricing.charge(waba, PricePoint(yesterday, "MARKETING", "BR", volume=3, cost=0.1875))
    graph.pricing.charge(waba, PricePoint(yesterday, "UTILITY", "US", volume=10, cost=0.04))
    graph.pricing.charge(waba, PricePoint(yesterday - 100 * 86_400, "MARKETING", "BR", volume=9, cost=9.0))
    template_id = await template(inbox, client, runtime, "MARKETING")
    created = await create(client, inbox.admin, template_id, phones(2))
    await until(client, inbox.admin, created["id"], "completed", lambda c: c["status"] == "COMPLETED")

    reads = graph.pricing.reads
    r = await client.get("/campaigns/meta-costs", headers=inbox.supervisor.headers)
    assert r.status_code == 200, r.text
    costs = r.json()["data"]
    [account] = costs["accounts"]
    assert account["wabaId"] == waba and account["currency"] == "USD" and account["error"] is None
    assert (
        account["total"] == pytest.approx(0.2275) and account["volume"] == 13
    )  # the 100-day-old point is out
    assert {c["key"]: c["cost"] for c in account["byCategory"]} == {"MARKETING": 0.1875, "UTILITY": 0.04}
    assert {c["key"]: c["volume"] for c in account["byCountry"]} == {"BR": 3, "US": 10}
    assert costs["total"] == pytest.approx(0.2275)
    [used] = costs["templates"]
    assert used["templateId"] == template_id and used["sent"] == 2
    assert used["estimatedCost"] == pytest.approx(2 * 0.0625)
    assert graph.pricing.reads == reads + 1
    r = await client.get("/campaigns/meta-costs", headers=inbox.admin.headers)
    assert r.json()["data"]["total"] == pytest.approx(0.2275)
    assert graph.pricing.reads == reads + 1  # from the cache


async def test_campaign_meta_cost_is_its_category_over_its_days(inbox, client, runtime, graph):
    now = int(time.time())
    waba = inbox.account.waba_id
    graph.pricing.charge(waba, PricePoint(now, "MARKETING", "BR", volume=2, cost=0.125))
    graph.pricing.charge(waba, PricePoint(now, "UTILITY", "BR", volume=5, cost=0.034))
    graph.pricing.charge(waba, PricePoint(now - 5 * 86_400, "MARKETING", "BR", volume=7, cost=0.4))
    template_id = await template(inbox, client, runtime, "MARKETING")
    created = await create(client, inbox.admin, template_id, phones(2))
    await until(client, inbox.admin, created["id"], "completed", lambda c: c["status"] == "COMPLETED")
    r = await client.get(f"/campaigns/{created['id']}/meta-cost", headers=inbox.supervisor.headers)
    assert r.status_code == 200, r.text
    cost = r.json()["data"]
    assert cost["category"] == "MARKETING" and cost["metaCost"] == 0.125 and cost["metaVolume"] == 2
    assert cost["estimatedCost"] == pytest.approx(0.125) and cost["spent"] == pytest.approx(0.125)


async def test_meta_costs_roles_and_other_organizations(inbox, client, runtime, factory, graph):
    template_id = await template(inbox, client, runtime)
    created = await create(client, inbox.admin, template_id, phones(1))
    for path in ("/campaigns/meta-costs", f"/campaigns/{created['id']}/meta-cost"):
        assert (await client.get(path)).status_code == 401
        r = await client.get(path, headers=inbox.agent.headers)
        assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    other = await make_inbox(client, runtime, factory, graph)
    r = await client.get(f"/campaigns/{created['id']}/meta-cost", headers=other.admin.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    r = await client.get("/campaigns/meta-costs", headers=other.admin.headers)
    assert (
        r.json()["data"]["templates"] == []
        and r.json()["data"]["accounts"][0]["wabaId"] == other.account.waba_id
    )
