"""The Redis event bus: two runtimes on one Redis prefix behave as two processes of one deployment."""

from __future__ import annotations

import asyncio

from tests.core.runtimes import REDIS_URL, needs_redis, started_runtime, unique_prefix
from tests.fixtures.events import publish
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
