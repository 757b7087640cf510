"""The visibility hook: a filter factory registered for an event family narrows what each listener
receives, and an event of a family no area registered reaches nobody."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cxinbox.auth.principal import Principal
from cxinbox.realtime.visibility import EventPredicate, register_event_filter, unregister_event_filter
from tests.fixtures.events import UPDATED, publish
from tests.fixtures.sse import open_stream

#: the family of the events these tests publish
FAMILY = "conversation."


@contextmanager
def only_team(organization_id: str, team_id: str) -> Iterator[None]:
    """Listeners of ``organization_id`` see only events whose audience is ``team_id``."""

    async def factory(_session, principal: Principal) -> EventPredicate:
        if principal.organization_id != organization_id:
            return lambda _event: True
        return lambda event: event["audience"].get("teamId") == team_id

    register_event_filter(FAMILY, factory)
    try:
        yield
    finally:
        unregister_event_filter(FAMILY, factory)


async def publish_for_teams(runtime, organization_id: str, teams: list[str]) -> None:
    for n, team in enumerate(teams, start=1):
        await publish(runtime, organization_id, {"n": n}, audience={"teamId": team})


async def test_a_listener_gets_only_what_the_filter_accepts_live(live_server, runtime, factory):
    org = await factory.org()
    with only_team(org.id, "red"):
        async with open_stream(live_server, headers=org.admin.headers) as stream:
            await publish_for_teams(runtime, org.id, ["blue", "red", "blue", "red"])
            received = await stream.events(2)
    assert [(e.id, e.json["data"]) for e in received] == [("2", {"n": 2}), ("4", {"n": 4})]


async def test_a_listener_gets_only_what_the_filter_accepts_on_replay(live_server, runtime, factory):
    org = await factory.org()
    await publish_for_teams(runtime, org.id, ["red", "blue", "blue", "red", "blue"])
    with only_team(org.id, "red"):
        headers = {**org.admin.headers, "Last-Event-ID": "0"}
        async with open_stream(live_server, headers=headers) as stream:
            replayed = await stream.events(2)
            await publish_for_teams(runtime, org.id, ["blue", "red"])  # ids 6 and 7
            [live] = await stream.events(1)
    assert [e.id for e in replayed] == ["1", "4"]
    assert live.id == "7"


async def test_an_unregistered_filter_no_longer_applies(live_server, runtime, factory):
    org = await factory.org()
    with only_team(org.id, "red"):
        pass
    async with open_stream(live_server, headers=org.admin.headers) as stream:
        await publish_for_teams(runtime, org.id, ["blue"])
        assert (await stream.next_event()).id == "1"


async def test_an_event_of_a_family_no_area_registered_reaches_nobody(live_server, runtime, factory):
    org = await factory.org()
    headers = {**org.admin.headers, "Last-Event-ID": "0"}
    await publish(runtime, org.id, {"n": 1}, type="unregistered.created")
    async with open_stream(live_server, headers=headers) as stream:
        await publish(runtime, org.id, {"n": 2}, type="unregistered.updated")
        await publish(runtime, org.id, {"n": 3})
        [received] = await stream.events(1)
    assert (received.id, received.event) == ("3", UPDATED)
