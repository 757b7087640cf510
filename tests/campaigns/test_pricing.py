"""The rate card and estimates: by country, free inside the customer-service window where Meta
charges nothing, the shipped card or a file named by the setting."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from cxinbox.campaigns.pricing import rate_card
from cxinbox.config import Settings
from cxinbox.core.clock import utcnow
from tests.fixtures.inbox import make_inbox, set_fields
from tests.fixtures.people import error_code
from tests.templates.helpers import approved

BRAZIL = ["+55 11 99999-0001", "5511999990002", "0055 11 99999 0003"]


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


async def _template(inbox, client, runtime, category: str, name: str = "order_shipped"):
    return await approved(client, runtime, inbox.account.waba_id, inbox.admin, name, category=category)


async def test_pricing_shows_the_shipped_card(inbox, client):
    r = await client.get("/campaigns/pricing", headers=inbox.supervisor.headers)
    assert r.status_code == 200, r.text
    card = r.json()["data"]
    assert (card["currency"], card["effectiveDate"]) == ("USD", "2026-01-01")
    brazil = next(m for m in card["markets"] if m["market"] == "Brazil")
    assert brazil == {"market": "Brazil", "marketing": 0.0625, "utility": 0.0068, "authentication": 0.0068}
    assert card["countries"]["55"] == {"country": "BR", "market": "Brazil"}


async def test_estimate_by_country_deduplicated_with_invalid_numbers_reported(inbox, client, runtime):
    template = await _template(inbox, client, runtime, "MARKETING")
    phones = [
        *BRAZIL,
        "+55 11 99999-0001",
        "+1 415 555 0100",
        "+44 7700 900123",
        "+998 90 123 4567",
        "12",
        "x",
    ]
    body = {"templateId": template["id"], "recipients": [{"phone": p} for p in phones]}
    r = await client.post("/campaigns/estimate", json=body, headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    estimate = r.json()["data"]
    assert estimate["category"] == "MARKETING" and estimate["currency"] == "USD"
    assert estimate["invalid"] == [{"index": 7, "phone": "12"}, {"index": 8, "phone": "x"}]
    by_country = {row["country"]: row for row in estimate["byCountry"]}
    assert by_country["BR"] == {
        "country": "BR",
        "market": "Brazil",
        "count": 3,
        "free": 0,
        "rate": 0.0625,
        "cost": 0.1875,
    }
    assert by_country["US"]["market"] == "North America" and by_country["US"]["cost"] == 0.025
    assert by_country["GB"]["rate"] == 0.0529
    assert by_country["OTHER"]["market"] == "Other" and by_country["OTHER"]["count"] == 1
    assert estimate["billable"] == 6
    assert estimate["total"] == pytest.approx(0.1875 + 0.025 + 0.0529 + 0.0604)


async def test_utility_is_free_inside_the_window_marketing_is_not(inbox, client, runtime):
    inside = await inbox.customer_writes("hi", wa_id="5511999990001")
    await set_fields(runtime, inside, last_inbound_at=utcnow() - timedelta(hours=23))
    closed = await inbox.customer_writes("hi", wa_id="5511999990002")
    await set_fields(runtime, closed, last_inbound_at=utcnow() - timedelta(hours=25))
    utility = await _template(inbox, client, runtime, "UTILITY")
    marketing = await _template(inbox, client, runtime, "MARKETING", "weekly_offer")
    recipients = [{"phone": p} for p in BRAZIL]
    r = await client.post(
        "/campaigns/estimate",
        json={"templateId": utility["id"], "recipients": recipients},
        headers=inbox.admin.headers,
    )
    (brazil,) = r.json()["data"]["byCountry"]
    assert (brazil["count"], brazil["free"], brazil["cost"]) == (3, 1, pytest.approx(2 * 0.0068))
    assert r.json()["data"]["billable"] == 2
    r = await client.post(
        "/campaigns/estimate",
        json={"templateId": marketing["id"], "recipients": recipients},
        headers=inbox.admin.headers,
    )
    assert r.json()["data"]["byCountry"][0]["free"] == 0 and r.json()["data"]["billable"] == 3


def test_a_rate_card_file_overrides_the_shipped_one(tmp_path):
    card = {
        "currency": "USD",
        "effectiveDate": "2026-01-01",
        "markets": {
            "Brazil": {"MARKETING": 0.07, "UTILITY": 0.01, "AUTHENTICATION": 0.01},
            "Other": {"MARKETING": 0.1, "UTILITY": 0.02, "AUTHENTICATION": 0.02},
        },
        "countries": {"55": {"country": "BR", "market": "Brazil"}},
        "otherMarket": "Other",
    }
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card))
    loaded = rate_card(Settings(rate_card_path=path).rate_card_path)
    assert str(loaded.effective_date) == "2026-01-01"
    assert loaded.market_of("5511999990001").market == "Brazil"
    assert loaded.market_of("4915112345678").market == "Other"


async def test_validation_roles_tokens_and_other_organizations(inbox, client, runtime, factory, graph):
    template = await _template(inbox, client, runtime, "MARKETING")
    good = {"templateId": template["id"], "recipients": [{"phone": BRAZIL[0]}]}
    for bad in (
        {"templateId": template["id"], "recipients": []},
        {"templateId": "bad id", "recipients": [{"phone": BRAZIL[0]}]},
        {"templateId": template["id"], "recipients": [{"phone": "1" * 41}]},
        {"templateId": template["id"], "recipients": [{"phone": "+55\x0011"}]},
        {"recipients": [{"phone": BRAZIL[0]}]},
    ):
        r = await client.post("/campaigns/estimate", json=bad, headers=inbox.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", (bad, r.text)
    r = await client.post(
        "/campaigns/estimate",
        json={"templateId": template["id"], "recipients": [{"phone": "+5511999990001"}] * 100_001},
        headers=inbox.admin.headers,
    )
    assert r.status_code in (400, 413), r.text
    for method, path, body in (("POST", "/campaigns/estimate", good), ("GET", "/campaigns/pricing", None)):
        r = await client.request(method, path, json=body, headers=inbox.agent.headers)
        assert r.status_code == 403 and error_code(r) == "FORBIDDEN", (path, r.text)
        assert (await client.request(method, path, json=body)).status_code == 401
    other = await factory.org()
    r = await client.post("/campaigns/estimate", json=good, headers=other.admin.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND", r.text
