"""The Redis event bus: two runtimes on one Redis prefix behave as two processes of one deployment."""

from __future__ import annotations

import asyncio

from cxinbox.core.events import publish_event
from tests.fixtures.events import publish
from tests.fixtures.runtimes import REDIS_URL, needs_redis, started_runtime, unique_prefix
from tests.fixtures.sse import open_stream
from tests.fixtures.wait import WAIT_SECONDS

pytestmark = needs_redis


async def test_an_event_committed_in_one_runtime_reaches_the_other(runtime, settings, factory):
    org = await factory.org()
    prefix = unique_prefix()
    async with (
        started_runtime(settings, redis_url=REDIS_URL, prefix=prefix, workers=False) as first,
        started_runtime(settings, redis_url=REDIS_URL, prefix=prefix, workers=False) as second,
        first.bus.subscribe(org.id) as here,
        second.bus.subscribe(org.id) as there,
    ):
        await publish(first, org.id, {"n": 1})
        for sub in (here, there):
            message = await asyncio.wait_for(sub.queue.get(), WAIT_SECONDS)
            assert (message["id"], message["type"], message["data"]) == (1, "conversation.updated", {"n": 1})
        await publish(second, org.id, {"n": 2})
        for sub in (here, there):  # once each: the publisher's own process hears it through Redis too
            message = await asyncio.wait_for(sub.queue.get(), WAIT_SECONDS)
            assert message["data"] == {"n": 2}


async def test_the_events_of_one_transaction_arrive_in_order_each_to_its_organization(
    runtime, settings, factory
):
    first_org, second_org = await factory.org(), await factory.org()
    prefix = unique_prefix()
    async with (
        started_runtime(settings, redis_url=REDIS_URL, prefix=prefix, workers=False) as publisher,
        started_runtime(settings, redis_url=REDIS_URL, prefix=prefix, workers=False) as listener,
        listener.bus.subscribe(first_org.id) as first,
        listener.bus.subscribe(second_org.id) as second,
    ):
        async with publisher.unit_of_work() as session:
            for n, org in enumerate((first_org, second_org, first_org, first_org, second_org)):
                publish_event(session, org.id, "conversation.updated", {"n": n})
        got_first = [await asyncio.wait_for(first.queue.get(), WAIT_SECONDS) for _ in range(3)]
        got_second = [await asyncio.wait_for(second.queue.get(), WAIT_SECONDS) for _ in range(2)]
    assert [(m["id"], m["data"]["n"]) for m in got_first] == [(1, 0), (2, 2), (3, 3)]
    assert [(m["id"], m["data"]["n"]) for m in got_second] == [(1, 1), (2, 4)]
    assert first.queue.empty() and second.queue.empty()


async def test_a_process_without_subscribers_does_not_listen(runtime, settings):
    async with started_runtime(settings, redis_url=REDIS_URL, prefix=unique_prefix(), workers=True) as worker:
        assert worker.bus._listener is None  # a worker process never reads its own events back


async def test_another_prefix_is_another_deployment(runtime, settings, factory):
    org = await factory.org()
    async with (
        started_runtime(settings, redis_url=REDIS_URL, workers=False) as other,
        other.bus.subscribe(org.id) as sub,
        runtime.bus.subscribe(org.id) as own,
    ):
        await publish(other, org.id, {"n": 1})
        await publish(runtime, org.id, {"n": 2})
        assert (await asyncio.wait_for(own.queue.get(), WAIT_SECONDS))["data"] == {"n": 2}
        assert (await asyncio.wait_for(sub.queue.get(), WAIT_SECONDS))["data"] == {"n": 1}


async def test_a_stream_of_one_process_gets_events_committed_by_another(
    live_server, runtime, settings, factory
):
    org = await factory.org()
    async with (
        started_runtime(settings, redis_url=REDIS_URL, prefix=settings.redis_prefix, workers=False) as other,
        open_stream(live_server, headers=org.admin.headers) as stream,
    ):
        await publish(other, org.id, {"n": 1})
        await publish(runtime, org.id, {"n": 2})
        await publish(other, org.id, {"n": 3})
        received = await stream.events(3)
    assert [(e.id, e.json["data"]) for e in received] == [("1", {"n": 1}), ("2", {"n": 2}), ("3", {"n": 3})]
