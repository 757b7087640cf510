"""GET /conversations, /conversations/counts and /conversations/categories: filters, sorts,
search, counts, cursor pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cxinbox.models.identity import Role
from cxinbox.models.inbox import ConversationOrigin, ConversationStatus
from tests.fixtures.inbox import seed_conversations, set_fields
from tests.fixtures.people import api_key_headers, error_code


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["data"]]


async def test_lists_open_conversations_newest_first_without_closed_ones(inbox, client):
    first = await inbox.customer_writes("first")
    second = await inbox.customer_writes("second")
    closed = await inbox.customer_writes("third")
    r = await client.post(f"/conversations/{closed}/resolve", headers=inbox.admin.headers)
    assert r.status_code == 200
    r = await client.get("/conversations", headers=inbox.admin.headers)
    assert ids(r) == [second, first]
    assert r.json()["meta"] == {"nextCursor": None, "hasMore": False}
    body = r.json()["data"][0]
    assert body["contact"]["name"] == "Customer" and body["lastMessagePreview"] == "second"
    assert (body["unreadCount"], body["needsAction"], body["tags"], body["followUp"]) == (1, True, [], None)
    r = await client.get("/conversations", params={"status": "CLOSED"}, headers=inbox.admin.headers)
    assert ids(r) == [closed]


async def test_status_filter(inbox, client):
    waiting, human = await inbox.customer_writes(), await inbox.customer_writes()
    await set_fields(inbox.runtime, waiting, status=ConversationStatus.WAITING_FOR_CUSTOMER)
    await client.post(f"/conversations/{human}/takeover", headers=inbox.admin.headers)
    for status, expected in (("WAITING_FOR_CUSTOMER", [waiting]), ("HUMAN_HANDLING", [human]), ("OPEN", [])):
        r = await client.get("/conversations", params={"status": status}, headers=inbox.admin.headers)
        assert ids(r) == expected, status


async def test_assigned_to_me_unassigned_or_a_user(inbox, client):
    mine, theirs, nobodys = [await inbox.customer_writes() for _ in range(3)]
    await client.post(f"/conversations/{mine}/takeover", headers=inbox.admin.headers)
    r = await client.post(
        f"/conversations/{theirs}/assign", json={"userId": inbox.agent.id}, headers=inbox.admin.headers
    )
    assert r.status_code == 200
    cases = {"me": [mine], "unassigned": [nobodys], inbox.agent.id: [theirs], "nobody-at-all": []}
    for assigned_to, expected in cases.items():
        r = await client.get(
            "/conversations", params={"assignedTo": assigned_to}, headers=inbox.admin.headers
        )
        assert ids(r) == expected, assigned_to
    key = await api_key_headers(client, inbox.org)
    r = await client.get("/conversations", params={"assignedTo": "me"}, headers=key)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


async def test_search_matches_contact_name_number_and_message_text(inbox, client):
    dana = await inbox.customer_writes("hi there", name="Dana Levi")
    number = await inbox.customer_writes("hello", wa_id="972501234567", name="Someone")
    parcel = await inbox.customer_writes("My parcel never arrived", name="Other")
    await inbox.customer_writes("nothing to see", name="Plain")
    cases = {
        "dana": [dana],
        "LEVI": [dana],
        "+972 50-123": [number],
        "501234": [number],
        "PARCEL never": [parcel],
        "%": [],
        "zzz-no-match": [],
    }
    for term, expected in cases.items():
        r = await client.get("/conversations", params={"search": term}, headers=inbox.admin.headers)
        assert ids(r) == expected, term


async def test_search_finds_older_messages_and_closed_conversations_when_asked(inbox, client):
    conversation = await inbox.customer_writes("invoice 8841 is wrong", name="Ana")
    await inbox.customer_writes("a later message", wa_id=None, name="Ana")  # another contact
    r = await client.post(f"/conversations/{conversation}/resolve", headers=inbox.admin.headers)
    assert r.status_code == 200
    r = await client.get("/conversations", params={"search": "invoice 8841"}, headers=inbox.admin.headers)
    assert ids(r) == []
    r = await client.get(
        "/conversations", params={"search": "invoice 8841", "status": "CLOSED"}, headers=inbox.admin.headers
    )
    assert ids(r) == [conversation]


async def test_sub_filters_and_counts_agree(inbox, client):
    unread, read, answered = [await inbox.customer_writes() for _ in range(3)]
    await client.post(f"/conversations/{read}/read", headers=inbox.admin.headers)
    await set_fields(inbox.runtime, answered, needs_action=False)
    r = await client.get("/conversations", params={"subFilter": "unread"}, headers=inbox.admin.headers)
    assert set(ids(r)) == {unread, answered}
    r = await client.get("/conversations", params={"subFilter": "needs_action"}, headers=inbox.admin.headers)
    assert set(ids(r)) == {unread, read}
    r = await client.get("/conversations/counts", headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"all": 3, "unread": 2, "needsAction": 2}
    await client.post(f"/conversations/{unread}/takeover", headers=inbox.admin.headers)
    r = await client.get("/conversations/counts", params={"assignedTo": "me"}, headers=inbox.admin.headers)
    assert r.json()["data"] == {"all": 1, "unread": 1, "needsAction": 1}
    r = await client.get("/conversations/counts", params={"status": "CLOSED"}, headers=inbox.admin.headers)
    assert r.json()["data"] == {"all": 0, "unread": 0, "needsAction": 0}


async def test_counts_take_every_filter_of_the_list(inbox, client):
    tagged, other = await inbox.customer_writes("refund please"), await inbox.customer_writes()
    await set_fields(inbox.runtime, tagged, team_id=inbox.team_id, category="billing")
    await set_fields(inbox.runtime, other, origin=ConversationOrigin.SIMULATED)
    r = await client.post("/tags", json={"name": "VIP"}, headers=inbox.admin.headers)
    tag = r.json()["data"]["id"]
    await client.post(f"/conversations/{tagged}/tags", json={"tagId": tag}, headers=inbox.admin.headers)
    filters = [
        {"teamId": inbox.team_id},
        {"category": "billing"},
        {"tag": tag},
        {"origin": "INBOUND"},
        {"search": "refund"},
    ]
    for params in filters:
        r = await client.get("/conversations/counts", params=params, headers=inbox.admin.headers)
        assert r.json()["data"]["all"] == 1, params
        r = await client.get("/conversations", params=params, headers=inbox.admin.headers)
        assert ids(r) == [tagged], params
    r = await client.get("/conversations", params={"origin": "SIMULATED"}, headers=inbox.admin.headers)
    assert ids(r) == [other]


async def test_five_sort_orders(inbox, client, runtime):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    a, b, c = await seed_conversations(runtime, inbox.org.id, inbox.account.id, 3, start=base)
    # created a < b < c; activity: b newest, then a, then c; the customer waits longest in c
    await set_fields(
        runtime, a, last_message_at=base + timedelta(hours=2), last_inbound_at=base + timedelta(hours=2)
    )
    await set_fields(
        runtime, b, last_message_at=base + timedelta(hours=3), last_inbound_at=base + timedelta(hours=1)
    )
    await set_fields(runtime, c, last_message_at=base + timedelta(hours=1), last_inbound_at=base)
    expected = {
        "newest": [b, a, c],
        "oldest": [c, a, b],
        "waiting_longest": [c, b, a],
        "created_newest": [c, b, a],
        "created_oldest": [a, b, c],
    }
    for sort, order in expected.items():
        r = await client.get("/conversations", params={"sort": sort}, headers=inbox.admin.headers)
        assert ids(r) == order, sort
        # the same order one page at a time
        walked, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 1} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/conversations", params=params, headers=inbox.admin.headers)).json()
            walked += [row["id"] for row in page["data"]]
            cursor = page["meta"]["nextCursor"]
            if not page["meta"]["hasMore"]:
                break
        assert walked == order, sort


async def test_conversations_without_activity_sort_as_the_reference_says(inbox, client, runtime):
    dated, undated = await seed_conversations(runtime, inbox.org.id, inbox.account.id, 2)
    await set_fields(runtime, undated, last_message_at=None, last_inbound_at=None)
    for sort, expected in (("newest", [undated, dated]), ("oldest", [dated, undated])):
        walked, cursor = [], None
        for _ in range(3):
            params = {"sort": sort, "limit": 1} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/conversations", params=params, headers=inbox.admin.headers)).json()
            walked += [row["id"] for row in page["data"]]
            cursor = page["meta"]["nextCursor"]
            if cursor is None:
                break
        assert walked == expected, sort


async def _walk(client, headers, params, pause=None) -> list[str]:
    walked, cursor = [], None
    while True:
        page = await client.get(
            "/conversations", params=params | ({"cursor": cursor} if cursor else {}), headers=headers
        )
        assert page.status_code == 200, page.text
        walked += [row["id"] for row in page.json()["data"]]
        cursor = page.json()["meta"]["nextCursor"]
        if cursor is None:
            return walked
        if pause is not None:
            await pause()


@pytest.mark.parametrize("sort", ["newest", "created_oldest", "waiting_longest"])
async def test_paging_never_skips_or_repeats_while_conversations_arrive(inbox, client, runtime, sort):
    start = datetime(2026, 2, 1, tzinfo=UTC)
    existing = await seed_conversations(runtime, inbox.org.id, inbox.account.id, 30, start=start)
    inserted: list[str] = []

    async def insert_between_pages() -> None:
        # activity times in the middle of the existing ones, and exactly on them (ties)
        if len(inserted) < 12:
            at = start + timedelta(minutes=5 * len(inserted) + (len(inserted) % 4) * 0.25)
            inserted.extend(await seed_conversations(runtime, inbox.org.id, inbox.account.id, 2, start=at))

    walked = await _walk(client, inbox.admin.headers, {"sort": sort, "limit": 4}, insert_between_pages)
    assert len(walked) == len(set(walked)), "a conversation was listed twice"
    assert set(existing) <= set(walked), "a conversation that existed before paging was skipped"
    assert set(walked) <= set(existing) | set(inserted)
    assert len(inserted) == 12


async def test_categories_are_distinct_and_sorted(inbox, client, factory):
    for category in ("shipping", "billing", "shipping", None, "returns"):
        conversation = await inbox.customer_writes()
        if category:
            r = await client.patch(
                f"/conversations/{conversation}", json={"category": category}, headers=inbox.admin.headers
            )
            assert r.status_code == 200
    other = await factory.org()
    r = await client.get("/conversations/categories", headers=inbox.agent.headers)
    assert r.status_code == 200 and r.json()["data"] == ["billing", "returns", "shipping"]
    r = await client.get("/conversations/categories", headers=other.admin.headers)
    assert r.json()["data"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "BOGUS"},
        {"sort": "alphabetical"},
        {"subFilter": "starred"},
        {"limit": 0},
        {"limit": 101},
        {"cursor": "not-a-cursor"},
        {"origin": "FAX"},
        {"search": "x" * 201},
    ],
)
async def test_list_rejects_bad_parameters(inbox, client, params):
    r = await client.get("/conversations", params=params, headers=inbox.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", params


async def test_counts_reject_bad_parameters(inbox, client):
    r = await client.get("/conversations/counts", params={"status": "NOPE"}, headers=inbox.admin.headers)
    assert r.status_code == 400


@pytest.mark.parametrize("path", ["/conversations", "/conversations/counts", "/conversations/categories"])
async def test_lists_need_a_member_of_an_organization(client, factory, path):
    assert (await client.get(path)).status_code == 401
    outsider = await factory.super_admin()
    r = await client.get(path, headers=outsider.headers)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    org = await factory.org()
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    assert (await client.get(path, headers=supervisor.headers)).status_code == 200


async def test_search_has_its_trigram_indexes_on_postgresql(runtime):
    from sqlalchemy import text

    async with runtime.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            pytest.skip("trigram indexes exist on PostgreSQL only")
        names = set(
            (
                await connection.execute(
                    text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%\\_trgm'")
                )
            ).scalars()
        )
    assert {"ix_contacts_name_trgm", "ix_contacts_wa_id_trgm", "ix_messages_text_trgm"} <= names
