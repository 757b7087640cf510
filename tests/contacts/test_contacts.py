"""/contacts: list and search with a cursor, detail by WhatsApp id, rename and categorise."""

from __future__ import annotations

import pytest

from cxinbox.models.identity import Role
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import error_code, events_of


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


def wa_ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["waId"] for c in response.json()["data"]]


async def test_list_newest_first_with_a_cursor(inbox, client):
    numbers = [f"4477009{i:05d}" for i in range(5)]
    for number in numbers:
        await inbox.customer_writes(wa_id=number)
    r = await client.get("/contacts", headers=inbox.agent.headers)
    assert wa_ids(r) == numbers[::-1]
    walked, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await client.get("/contacts", params=params, headers=inbox.agent.headers)
        walked += wa_ids(page)
        cursor = page.json()["meta"]["nextCursor"]
        if not page.json()["meta"]["hasMore"]:
            break
    assert walked == numbers[::-1]


async def test_search_by_name_or_number(inbox, client):
    await inbox.customer_writes(wa_id="972541112233", name="Dana Levi")
    await inbox.customer_writes(wa_id="491701234567", name="Jonas")
    cases = {
        "dana": ["972541112233"],
        "LEVI": ["972541112233"],
        "+49 170": ["491701234567"],
        "2233": ["972541112233"],
    }
    for term, expected in cases.items():
        assert (
            wa_ids(await client.get("/contacts", params={"search": term}, headers=inbox.admin.headers))
            == expected
        )
    assert wa_ids(await client.get("/contacts", params={"search": "_"}, headers=inbox.admin.headers)) == []


async def test_detail_and_update(inbox, client, runtime):
    await inbox.customer_writes(wa_id="33612345678", name="Marie")
    r = await client.get("/contacts/33612345678", headers=inbox.agent.headers)
    assert r.status_code == 200
    assert (r.json()["data"]["name"], r.json()["data"]["phone"]) == ("Marie", "+33612345678")
    r = await client.patch(
        "/contacts/33612345678",
        json={"name": " Marie Curie ", "category": "vip"},
        headers=inbox.agent.headers,
    )
    assert r.status_code == 200
    assert (r.json()["data"]["name"], r.json()["data"]["category"]) == ("Marie Curie", "vip")
    r = await client.patch("/contacts/33612345678", json={"category": None}, headers=inbox.admin.headers)
    assert (r.json()["data"]["name"], r.json()["data"]["category"]) == ("Marie Curie", None)
    assert (await events_of(runtime, inbox.org.id, "contact.updated"))[-1]["category"] is None


async def test_a_name_a_person_set_outlives_profile_changes(inbox, client):
    await inbox.customer_writes(wa_id="351912345678", name="Rui")
    r = await client.patch(
        "/contacts/351912345678", json={"name": "Rui (supplier)"}, headers=inbox.agent.headers
    )
    assert (r.json()["data"]["name"], r.json()["data"]["profileName"]) == ("Rui (supplier)", "Rui")
    await inbox.customer_writes(wa_id="351912345678", name="Rui Costa 🚀")
    data = (await client.get("/contacts/351912345678", headers=inbox.agent.headers)).json()["data"]
    assert (data["name"], data["profileName"]) == ("Rui (supplier)", "Rui Costa 🚀")
    # the conversation shows the same contact
    r = await client.get("/conversations", headers=inbox.admin.headers)
    [shown] = [c["contact"] for c in r.json()["data"] if c["contact"]["waId"] == "351912345678"]
    assert (shown["name"], shown["profileName"]) == ("Rui (supplier)", "Rui Costa 🚀")
    # null gives the profile name back, and the name follows the profile again
    r = await client.patch("/contacts/351912345678", json={"name": None}, headers=inbox.agent.headers)
    assert r.json()["data"]["name"] == "Rui Costa 🚀"
    await inbox.customer_writes(wa_id="351912345678", name="Rui C.")
    data = (await client.get("/contacts/351912345678", headers=inbox.agent.headers)).json()["data"]
    assert (data["name"], data["profileName"]) == ("Rui C.", "Rui C.")


async def test_without_an_edit_the_name_follows_the_profile(inbox, client):
    await inbox.customer_writes(wa_id="351912300000", name="Ana")
    await inbox.customer_writes(wa_id="351912300000", name="Ana Lima")
    await inbox.customer_writes(wa_id="351912300000", name=None)  # no profile: nothing changes
    data = (await client.get("/contacts/351912300000", headers=inbox.agent.headers)).json()["data"]
    assert (data["name"], data["profileName"]) == ("Ana Lima", "Ana Lima")


@pytest.mark.parametrize(
    "body", [{"name": ""}, {"name": "x" * 201}, {"category": ""}, {"category": "x" * 65}]
)
async def test_update_validation(inbox, client, body):
    await inbox.customer_writes(wa_id="34600111222")
    r = await client.patch("/contacts/34600111222", json=body, headers=inbox.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "%%%"}, {"search": "x" * 201}])
async def test_list_validation(inbox, client, params):
    r = await client.get("/contacts", params=params, headers=inbox.admin.headers)
    assert r.status_code == 400, params


async def test_tokens_roles_and_other_organizations(inbox, client, factory):
    await inbox.customer_writes(wa_id="390612345678")
    other = await factory.org()
    platform = await factory.super_admin()
    for method, path, body in (
        ("GET", "/contacts", None),
        ("GET", "/contacts/390612345678", None),
        ("PATCH", "/contacts/390612345678", {"name": "X"}),
    ):
        assert (await client.request(method, path, json=body)).status_code == 401
        assert (await client.request(method, path, json=body, headers=platform.headers)).status_code == 403
    for method, path, body in (
        ("GET", "/contacts/390612345678", None),
        ("PATCH", "/contacts/390612345678", {"name": "X"}),
    ):
        r = await client.request(method, path, json=body, headers=other.admin.headers)
        assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    assert wa_ids(await client.get("/contacts", headers=other.admin.headers)) == []
    agent = await factory.member(inbox.org.id, Role.AGENT)
    assert (await client.get("/contacts/390612345678", headers=agent.headers)).status_code == 200
