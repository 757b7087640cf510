"""GET /events against a real uvicorn: live delivery, replay, isolation, heartbeats, disconnects."""

from __future__ import annotations

import httpx
import pytest

from cxinbox.core import pubsub
from cxinbox.core.db import after_commit
from cxinbox.core.events import publish_event
from tests.fixtures.events import UPDATED, publish, stored_events
from tests.fixtures.sse import SseEvent, open_stream
from tests.fixtures.wait import eventually


def ids(events: list[SseEvent]) -> list[int]:
    return [int(e.id) for e in events if e.id is not None]


def datas(events: list[SseEvent]) -> list[dict]:
    return [e.json["data"] for e in events]


async def test_published_events_arrive_live(live_server, runtime, factory):
    org = await factory.org()
    async with open_stream(live_server, headers=org.admin.headers) as stream:
        await publish(runtime, org.id, {"id": "c1", "n": 1}, audience={"teamId": "t1"})
        await publish(runtime, org.id, {"id": "m1", "n": 2}, type="message.created")
        await publish(runtime, org.id, {"id": "c1", "n": 3})
        received = await stream.events(3)

    assert [e.event for e in received] == [UPDATED, "message.created", UPDATED]
    assert ids(received) == [1, 2, 3]
    first = received[0].json
    assert set(first) == {"type", "data", "occurredAt"}
    assert first["type"] == UPDATED
    assert first["data"] == {"id": "c1", "n": 1}
    assert first["occurredAt"].endswith("Z")


async def test_several_events_of_one_unit_of_work_arrive_in_order(live_server, runtime, factory):
    org = await factory.org()
    async with open_stream(live_server, headers=org.admin.headers) as stream:
        async with runtime.unit_of_work() as session:
            for n in range(5):
                publish_event(session, org.id, UPDATED, {"n": n})
        received = await stream.events(5)
    assert ids(received) == [1, 2, 3, 4, 5]
    assert datas(received) == [{"n": n} for n in range(5)]


async def test_reconnect_with_last_event_id_replays_exactly_the_missed_events(live_server, runtime, factory):
    org = await factory.org()
    async with open_stream(live_server, headers=org.admin.headers) as stream:
        await publish(runtime, org.id, {"n": 1})
        [seen] = await stream.events(1)
    await publish(runtime, org.id, {"n": 2})
    await publish(runtime, org.id, {"n": 3})

    headers = {**org.admin.headers, "Last-Event-ID": seen.id}
    async with open_stream(live_server, headers=headers) as stream:
        replayed = await stream.events(2)
        await publish(runtime, org.id, {"n": 4})
        [live] = await stream.events(1)

    assert ids(replayed) == [2, 3]
    assert datas(replayed) == [{"n": 2}, {"n": 3}]
    assert replayed[0].event == UPDATED
    assert live.id == "4" and live.json["data"] == {"n": 4}


async def test_last_event_id_query_parameter_replays_too(live_server, runtime, factory):
    org = await factory.org()
    for n in range(1, 4):
        await publish(runtime, org.id, {"n": n})
    async with open_stream(live_server, headers=org.admin.headers, params={"lastEventId": "1"}) as stream:
        assert ids(await stream.events(2)) == [2, 3]


async def test_a_malformed_last_event_id_is_a_validation_error(live_server, factory):
    org = await factory.org()
    async with httpx.AsyncClient(base_url=live_server) as client:
        r = await client.get("/events", headers={**org.admin.headers, "Last-Event-ID": "abc"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_late_fan_out_is_neither_lost_nor_reordered(live_server, runtime, factory):
    """Event 2 reaches the bus before event 1 (its transaction committed later but fanned out first):
    the listener still gets 1 then 2, once each."""
    org = await factory.org()

    async def publish_second() -> None:
        await publish(runtime, org.id, {"n": 2})

    async with open_stream(live_server, headers=org.admin.headers) as stream:
        async with runtime.unit_of_work() as session:
            publish_event(session, org.id, UPDATED, {"n": 1})
            after_commit(session, publish_second)  # runs before this unit's own fan-out
        await publish(runtime, org.id, {"n": 3})
        received = await stream.events(3)
    assert ids(received) == [1, 2, 3]
    assert datas(received) == [{"n": 1}, {"n": 2}, {"n": 3}]


async def test_a_listener_never_sees_another_organizations_events(live_server, runtime, factory):
    org_a, org_b = await factory.org(), await factory.org()
    async with (
        open_stream(live_server, headers=org_a.admin.headers) as stream_a,
        open_stream(live_server, headers=org_b.admin.headers) as stream_b,
    ):
        await publish(runtime, org_b.id, {"org": "b", "n": 1})
        await publish(runtime, org_a.id, {"org": "a", "n": 1})
        await publish(runtime, org_b.id, {"org": "b", "n": 2})
        await publish(runtime, org_a.id, {"org": "a", "n": 2})
        seen_a = await stream_a.events(2)
        seen_b = await stream_b.events(2)
    assert datas(seen_a) == [{"org": "a", "n": 1}, {"org": "a", "n": 2}]
    assert datas(seen_b) == [{"org": "b", "n": 1}, {"org": "b", "n": 2}]

    async with open_stream(live_server, headers={**org_a.admin.headers, "Last-Event-ID": "0"}) as replay:
        replayed = await replay.events(2)
        await publish(runtime, org_b.id, {"org": "b", "n": 3})
        await publish(runtime, org_a.id, {"org": "a", "n": 3})
        [live] = await replay.events(1)
    assert datas(replayed) == [{"org": "a", "n": 1}, {"org": "a", "n": 2}]
    assert live.json["data"] == {"org": "a", "n": 3}


async def test_a_rolled_back_unit_of_work_publishes_and_stores_nothing(live_server, runtime, factory):
    org = await factory.org()
    async with open_stream(live_server, headers=org.admin.headers) as stream:
        with pytest.raises(RuntimeError):
            async with runtime.unit_of_work() as session:
                publish_event(session, org.id, "conversation.deleted", {"n": "rolled back"})
                raise RuntimeError("the service failed")
        await publish(runtime, org.id, {"n": "committed"})
        first = await stream.next_event()
    assert first.event == UPDATED and first.json["data"] == {"n": "committed"}
    assert first.id == "1"  # the rolled-back event did not use up an id
    assert [(e.seq, e.type) for e in await stored_events(runtime, org.id)] == [(1, UPDATED)]


async def test_a_lagging_listener_is_told_to_reconnect_and_then_replays_what_it_missed(
    live_server, runtime, factory, monkeypatch
):
    monkeypatch.setattr(pubsub, "SUBSCRIBER_BUFFER", 2)
    org = await factory.org()
    published = 20
    async with open_stream(live_server, headers=org.admin.headers) as stream:
        async with runtime.unit_of_work() as session:  # fanned out at once: more than the buffer holds
            for n in range(1, published + 1):
                publish_event(session, org.id, UPDATED, {"n": n})
        received = []
        while (event := await stream.next_event()).event != "stream.reset":
            received.append(event)
        reset = event
        with pytest.raises(EOFError):  # and the stream ends
            await stream.next_item()

    assert len(received) < published
    assert ids(received) == list(range(1, len(received) + 1))
    assert reset.id == str(len(received))
    assert set(reset.json) == {"type", "data", "occurredAt"}
    assert reset.json["type"] == "stream.reset"
    assert reset.json["data"] == {"reason": "lagged", "lastEventId": reset.id}

    async with open_stream(live_server, headers={**org.admin.headers, "Last-Event-ID": reset.id}) as stream:
        rest = await stream.events(published - len(received))
    assert datas(received + rest) == [{"n": n} for n in range(1, published + 1)]


async def test_an_idle_stream_carries_heartbeat_comments(live_server, factory):
    org = await factory.org()
    async with open_stream(live_server, headers=org.admin.headers) as stream:
        heartbeat = await stream.next_comment()
    assert heartbeat.text.startswith("ping")


async def test_a_client_disconnect_releases_its_subscription(live_server, runtime, factory):
    org = await factory.org()
    hub = runtime.bus.hub
    async with open_stream(live_server, headers=org.admin.headers):
        assert hub.subscribers(org.id) == 1
        async with open_stream(live_server, headers=org.admin.headers):
            assert hub.subscribers(org.id) == 2
        await eventually(lambda: hub.subscribers(org.id) == 1, "the second listener is released")
    await eventually(lambda: hub.subscribers(org.id) == 0, "the first listener is released")


async def test_the_stream_needs_credentials(live_server):
    async with httpx.AsyncClient(base_url=live_server) as client:
        r = await client.get("/events")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "UNAUTHORIZED"


async def test_the_stream_accepts_an_api_key(live_server, runtime, factory):
    org = await factory.org()
    async with httpx.AsyncClient(base_url=live_server, headers=org.admin.headers) as client:
        created = await client.post("/api-keys", json={"name": "stream"})
    key = created.json()["data"]["key"]
    async with open_stream(live_server, headers={"X-API-Key": key}) as stream:
        await publish(runtime, org.id, {"n": 1})
        assert (await stream.next_event()).json["data"] == {"n": 1}
