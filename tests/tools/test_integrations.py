"""/integrations and /phone-lookup: the organization's one account lookup, numbers normalised (a
Mexican mobile's 521 form matches its last 10 digits), answers cached with a TTL, ``force`` past it,
no account a 200 ``found: false``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxinbox.models.inbox import Contact, Conversation
from cxinbox.tools.phones import normalise
from tests.fixtures.audit import audit_entries
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.inbox import make_inbox

KEY = "crm-key-9876543210"
ACCOUNT = {"fullName": "Ana López", "account": {"balance": 120.5, "plan": "gold"}}


@pytest.mark.parametrize(
    ("raw", "national", "country"),
    [
        ("5512345678", "5512345678", "52"),
        ("+52 55 1234 5678", "5512345678", "52"),
        ("5215512345678", "5512345678", "52"),
        ("+521 (55) 1234-5678", "5512345678", "52"),
        ("525512345678", "5512345678", "52"),
        ("0052 55 1234 5678", "5512345678", "52"),
        ("+1 415 555 0100", "4155550100", "1"),
        ("14155550100", "4155550100", "1"),
    ],
)
def test_numbers_are_matched_on_their_last_ten_digits(raw, national, country):
    phone = normalise(raw, "52")
    assert (phone.national, phone.country_code, phone.full) == (national, country, country + national)


@pytest.mark.parametrize(
    "raw", ["12345", "55123456789012345", "55-1234-567a", "５５１２３４５６７８", "", "0123455512345678"]
)
def test_other_input_is_not_a_number(raw):
    with pytest.raises(ValueError):
        normalise(raw, "52")


def _integration(api, **fields):
    return {
        "baseUrl": api.url,
        "lookupPath": "/customers?phone={{phone}}&cc={{countryCode}}",
        "authType": "API_KEY_HEADER",
        "secrets": {"apiKey": KEY},
        "resultPath": "data",
        "fieldMapping": {"name": "fullName", "balance": "account.balance"},
        **fields,
    }


@pytest.fixture
async def configured(client, people, business_api):
    business_api.accounts["5512345678"] = ACCOUNT
    r = await client.put("/integrations", json=_integration(business_api), headers=people.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_configure_read_masked_reveal_and_delete(client, runtime, people, business_api):
    admin = people.admin
    r = await client.get("/integrations", headers=admin.headers)
    assert r.status_code == 200 and r.json()["data"] is None
    r = await client.put("/integrations", json=_integration(business_api), headers=admin.headers)
    data = r.json()["data"]
    assert (data["secrets"], data["defaultCountryCode"], data["cacheTtlSeconds"]) == (
        {"apiKey": "••••••••3210"},
        "52",
        300,
    )
    again = await client.put(
        "/integrations",
        json=_integration(business_api, cacheTtlSeconds=60, secrets={}),
        headers=admin.headers,
    )
    assert again.json()["data"]["id"] == data["id"] and again.json()["data"]["cacheTtlSeconds"] == 60
    r = await client.get("/integrations", headers=people.supervisor.headers)
    assert r.json()["data"]["secrets"] == {"apiKey": "••••••••3210"} and KEY not in r.text
    r = await client.get("/integrations/secrets", headers=admin.headers)
    assert r.json()["data"] == {"secrets": {"apiKey": KEY}}
    assert len(await audit_entries(runtime, people.org.id, "integration.secrets_revealed")) == 1
    r = await client.delete("/integrations", headers=admin.headers)
    assert r.json()["data"] == {"id": data["id"], "deleted": True}
    error_of(await client.delete("/integrations", headers=admin.headers), 404, "INTEGRATION_NOT_CONFIGURED")
    error_of(
        await client.get("/phone-lookup/5512345678", headers=admin.headers), 404, "INTEGRATION_NOT_CONFIGURED"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lookupPath": ""}, "lookupPath"),
        ({"baseUrl": "file:///etc/passwd"}, "baseUrl"),
        ({"defaultCountryCode": "+52"}, "defaultCountryCode"),
        ({"cacheTtlSeconds": -1}, "cacheTtlSeconds"),
        ({"fieldMapping": {"name": "a..b"}}, "fieldMapping.name"),
        ({"secrets": {}}, "secrets.apiKey"),
    ],
)
async def test_invalid_integrations_are_refused(client, people, business_api, change, field):
    r = await client.put(
        "/integrations", json=_integration(business_api, **change), headers=people.admin.headers
    )
    assert field in bad_fields(r)


async def test_lookup_normalises_caches_and_forces(client, people, business_api, configured):
    headers = people.agent.headers
    r = await client.get("/phone-lookup/+521%2055%201234%205678", headers=headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["found"], data["phone"], data["cached"]) == (True, "5512345678", False)
    assert data["data"] == {"name": "Ana López", "balance": 120.5}
    seen = business_api.last()
    assert (seen.query, seen.headers["x-api-key"]) == ("phone=5512345678&cc=52", KEY)
    calls = business_api.count()
    r = await client.get("/phone-lookup/5512345678", headers=headers)
    assert r.json()["data"]["cached"] is True and r.json()["data"]["data"]["name"] == "Ana López"
    assert business_api.count() == calls
    business_api.accounts["5512345678"] = {"fullName": "Ana María"}
    r = await client.get("/phone-lookup/5512345678", params={"force": "true"}, headers=headers)
    assert (
        r.json()["data"]["data"] == {"name": "Ana María", "balance": None}
        and business_api.count() == calls + 1
    )


async def test_no_account_is_found_false_and_bad_numbers_are_400(client, people, business_api, configured):
    r = await client.get("/phone-lookup/8180000000", headers=people.agent.headers)
    assert r.status_code == 200 and r.json()["data"] == {
        "found": False,
        "phone": "8180000000",
        "data": None,
        "cached": False,
        "fetchedAt": r.json()["data"]["fetchedAt"],
    }
    assert bad_fields(await client.get("/phone-lookup/12345", headers=people.agent.headers)) == {"phone"}
    assert bad_fields(
        await client.get("/phone-lookup/55%3B12345678%27%20OR%201%3D1", headers=people.agent.headers)
    ) == {"phone"}


async def test_a_failing_service_is_503_for_lookups_and_a_report_for_tests(client, people, business_api):
    admin = people.admin
    body = _integration(business_api, lookupPath="/status/500?phone={{phone}}", cacheTtlSeconds=0)
    assert (await client.put("/integrations", json=body, headers=admin.headers)).status_code == 200
    error = error_of(
        await client.get("/phone-lookup/5512345678", headers=admin.headers), 503, "INTEGRATION_UNAVAILABLE"
    )
    assert error["details"]["status"] == 500
    r = await client.post("/integrations/test", json={"phone": "5512345678"}, headers=admin.headers)
    data = r.json()["data"]
    assert r.status_code == 200 and (data["ok"], data["status"], data["found"]) == (False, 500, False)
    assert KEY not in r.text and "••••" in data["bodyPreview"]  # the API echoed its headers


async def test_test_endpoint_and_private_switch(
    client, people, business_api, configured, private_urls_refused
):
    admin = people.admin
    r = await client.post("/integrations/test", json={"phone": "5512345678"}, headers=admin.headers)
    data = r.json()["data"]
    assert r.status_code == 200 and data["ok"] is False and "not allowed" in data["error"]
    body = _integration(business_api, baseUrl="http://[::1]:8080")
    assert bad_fields(await client.put("/integrations", json=body, headers=admin.headers)) == {"baseUrl"}


async def test_conversation_data_roles_and_other_organizations(client, runtime, factory, graph, business_api):
    inbox = await make_inbox(client, runtime, factory, graph)
    r = await client.put("/integrations", json=_integration(business_api), headers=inbox.admin.headers)
    assert r.status_code == 200
    conversation_id = await inbox.in_team(wa_id="5215512345678")
    business_api.accounts["5512345678"] = ACCOUNT
    r = await client.get(f"/integrations/data/{conversation_id}", headers=inbox.agent.headers)
    assert r.status_code == 200 and r.json()["data"]["found"] is True
    error_of(
        await client.get(f"/integrations/data/{conversation_id}", headers=inbox.outsider.headers),
        404,
        "NOT_FOUND",
    )
    username = await inbox.in_team(wa_id="5215500000001")
    async with runtime.unit_of_work() as session:
        contact = await session.scalar(select(Contact).join(Conversation).where(Conversation.id == username))
        contact.phone, contact.wa_id = None, "US.12345abc"
    r = await client.get(f"/integrations/data/{username}", headers=inbox.agent.headers)
    assert r.status_code == 200 and r.json()["data"]["found"] is False
    other = await factory.org()
    error_of(
        await client.get(f"/integrations/data/{conversation_id}", headers=other.admin.headers),
        404,
        "NOT_FOUND",
    )
    assert (await client.get("/integrations", headers=other.admin.headers)).json()["data"] is None
    for member in (inbox.agent, inbox.supervisor):
        error_of(
            await client.put("/integrations", json=_integration(business_api), headers=member.headers),
            403,
            "FORBIDDEN",
        )
        error_of(await client.delete("/integrations", headers=member.headers), 403, "FORBIDDEN")
        error_of(await client.get("/integrations/secrets", headers=member.headers), 403, "FORBIDDEN")
        error_of(
            await client.post("/integrations/test", json={"phone": "1"}, headers=member.headers),
            403,
            "FORBIDDEN",
        )
    error_of(await client.get("/integrations", headers=inbox.agent.headers), 403, "FORBIDDEN")
    error_of(await client.get("/phone-lookup/5512345678"), 401, "UNAUTHORIZED")
    assert "phone" in bad_fields(
        await client.post("/integrations/test", json={}, headers=inbox.admin.headers)
    )
