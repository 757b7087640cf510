"""The data layer under concurrency: atomic counters and per-organization event ids."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from cxinbox.core.events import publish_event
from cxinbox.models.event_log import EventSequence
from tests.fixtures.events import stored_events
from tests.fixtures.sse import open_stream

CONCURRENCY = 40


async def test_concurrent_requests_with_one_api_key_count_every_use(live_server, factory):
    org = await factory.org()
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as client:
        created = await client.post("/api-keys", json={"name": "load"}, headers=org.admin.headers)
        assert created.status_code == 201, created.text
        key = created.json()["data"]
        with_key = {"Authorization": f"Bearer {key['key']}"}

        answers = await asyncio.gather(*(client.get("/users", headers=with_key) for _ in range(CONCURRENCY)))
        assert [r.status_code for r in answers] == [200] * CONCURRENCY

        listed = await client.get("/api-keys", headers=org.admin.headers)  # a JWT: not a use of the key
    [row] = [k for k in listed.json()["data"] if k["id"] == key["id"]]
    assert row["usageCount"] == CONCURRENCY
    assert row["lastUsedAt"] is not None


async def publish_concurrently(runtime, organization_id: str) -> None:
    """``CONCURRENCY`` units of work, each publishing one event ``{"n": …}``, all at once."""

    async def publish_one(n: int) -> None:
        async with runtime.unit_of_work() as session:
            publish_event(session, organization_id, "conversation.updated", {"n": n})

    await asyncio.gather(*(publish_one(n) for n in range(CONCURRENCY)))


async def test_concurrent_units_of_work_get_distinct_gap_free_event_ids(runtime, factory):
    org = await factory.org()
    await publish_concurrently(runtime, org.id)

    stored = await stored_events(runtime, org.id)
    assert [e.seq for e in stored] == list(range(1, CONCURRENCY + 1))
    assert sorted(e.data["n"] for e in stored) == list(range(CONCURRENCY))
    async with runtime.sessionmaker() as session:
        last = await session.scalar(
            select(EventSequence.last_id).where(EventSequence.organization_id == org.id)
        )
    assert last == CONCURRENCY


async def test_a_listener_gets_concurrently_published_events_in_order_once_each(
    live_server, runtime, factory
):
    org = await factory.org()
    async with open_stream(live_server, headers=org.admin.headers) as stream:
        await publish_concurrently(runtime, org.id)
        received = await stream.events(CONCURRENCY)
    assert [int(e.id) for e in received] == list(range(1, CONCURRENCY + 1))
    assert sorted(e.json["data"]["n"] for e in received) == list(range(CONCURRENCY))


async def test_a_transactions_events_of_several_organizations_are_numbered_in_publishing_order(
    runtime, factory
):
    """Few events of an organization (one statement on PostgreSQL), many (two) and several
    organizations in one transaction: each organization's ids follow on, in the order published."""
    few, many, other = [await factory.org() for _ in range(3)]
    counts = {few.id: 2, many.id: 20, other.id: 1}
    for _ in range(2):
        async with runtime.unit_of_work() as session:
            for n in range(max(counts.values())):
                for org_id, count in counts.items():
                    if n < count:
                        publish_event(session, org_id, "conversation.updated", {"n": n}, {"teamId": org_id})
    for org_id, count in counts.items():
        stored = await stored_events(runtime, org_id)
        assert [e.seq for e in stored] == list(range(1, 2 * count + 1))
        assert [e.data["n"] for e in stored] == [*range(count), *range(count)]
        assert {e.audience["teamId"] for e in stored} == {org_id}
        assert [e.occurred_at for e in stored] == sorted(e.occurred_at for e in stored)
