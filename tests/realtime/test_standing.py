"""An open stream does not keep its listener's rights forever: at every heartbeat (1 s in the
tests) the listener is checked again, and the stream ends with ``stream.reset`` (reason
``access_changed``) once the user, its role or teams, its organization or its API key changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest

from cxinbox.core.clock import utcnow
from cxinbox.models.identity import ApiKey, Organization, OrganizationStatus, Role, User
from cxinbox.models.teams import TeamMember
from cxinbox.runtime import Runtime
from tests.fixtures.api import create_api_key
from tests.fixtures.events import publish
from tests.fixtures.factories import Member, update_rows
from tests.fixtures.people import make_team
from tests.fixtures.sse import SseStream, open_stream

Change = Callable[[Runtime, Member], Awaitable[None]]


async def deactivate(runtime: Runtime, member: Member) -> None:
    await update_rows(runtime, User, User.id == member.id, is_active=False)


async def delete(runtime: Runtime, member: Member) -> None:
    await update_rows(runtime, User, User.id == member.id, deleted_at=utcnow())


async def promote(runtime: Runtime, member: Member) -> None:
    await update_rows(runtime, User, User.id == member.id, role=Role.SUPERVISOR)


async def join_a_team(runtime: Runtime, member: Member) -> None:
    team_id = await make_team(runtime, member.user.organization_id)
    async with runtime.unit_of_work() as session:
        session.add(
            TeamMember(organization_id=member.user.organization_id, team_id=team_id, user_id=member.id)
        )


async def suspend_the_organization(runtime: Runtime, member: Member) -> None:
    org_id = member.user.organization_id
    await update_rows(runtime, Organization, Organization.id == org_id, status=OrganizationStatus.SUSPENDED)


async def ends_for_a_changed_access(stream: SseStream) -> None:
    reset = await stream.next_event()
    assert reset.event == "stream.reset"
    assert reset.json["data"]["reason"] == "access_changed"
    with pytest.raises(EOFError):
        await stream.next_item()


@pytest.mark.parametrize("change", [deactivate, delete, promote, join_a_team, suspend_the_organization])
async def test_a_changed_listener_is_closed(live_server, runtime, factory, change: Change):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    async with open_stream(live_server, headers=agent.headers) as stream:
        await publish(runtime, org.id, {"n": 1})
        assert (await stream.next_event()).json["data"] == {"n": 1}
        await change(runtime, agent)
        await ends_for_a_changed_access(stream)


async def test_a_browser_token_stream_of_a_deactivated_user_is_closed(live_server, runtime, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    async with httpx.AsyncClient(base_url=live_server, headers=agent.headers) as client:
        token = (await client.post("/events/token")).json()["data"]["token"]
    async with open_stream(live_server, params={"token": token}) as stream:
        await deactivate(runtime, agent)
        await ends_for_a_changed_access(stream)


@pytest.mark.parametrize(
    "values",
    [{"is_active": False}, {"expires_at": utcnow() - timedelta(seconds=1)}],
    ids=["revoked", "expired"],
)
async def test_a_stream_of_a_revoked_or_expired_key_is_closed(live_server, runtime, factory, values):
    org = await factory.org()
    async with httpx.AsyncClient(base_url=live_server) as client:
        created = await create_api_key(client, org.admin.headers)
    async with open_stream(live_server, headers={"X-API-Key": created["key"]}) as stream:
        await update_rows(runtime, ApiKey, ApiKey.id == created["id"], **values)
        await ends_for_a_changed_access(stream)


async def test_an_unchanged_listener_stays_connected_across_heartbeats(live_server, runtime, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    async with open_stream(live_server, headers=agent.headers) as stream:
        for _ in range(3):
            assert (await stream.next_comment()).text.startswith("ping")
        await publish(runtime, org.id, {"n": 1})
        assert (await stream.next_event()).json["data"] == {"n": 1}
