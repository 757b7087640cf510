"""POST /events/token and GET /events?token=… (EventSource cannot send headers)."""

from __future__ import annotations

import httpx
import pytest

from cxinbox.auth.credentials import principal_claims
from cxinbox.auth.principal import Principal
from cxinbox.auth.tokens import EVENTS
from cxinbox.models.identity import Role
from tests.fixtures.events import publish
from tests.fixtures.sse import open_stream


async def events_token(base_url: str, headers: dict[str, str]) -> dict:
    async with httpx.AsyncClient(base_url=base_url) as client:
        r = await client.post("/events/token", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_a_stream_token_opens_the_stream(live_server, runtime, factory):
    org = await factory.org()
    issued = await events_token(live_server, org.admin.headers)
    assert issued["expiresIn"] == runtime.settings.events_token_ttl_seconds
    async with open_stream(live_server, params={"token": issued["token"]}) as stream:
        await publish(runtime, org.id, {"n": 1})
        event = await stream.next_event()
    assert event.json["data"] == {"n": 1}


async def test_a_stream_token_needs_credentials(live_server):
    async with httpx.AsyncClient(base_url=live_server) as client:
        r = await client.post("/events/token")
    assert r.status_code == 401


async def test_an_expired_stream_token_is_refused(live_server, runtime, factory):
    org = await factory.org()
    claims = principal_claims(Principal(role=Role.ADMIN, organization_id=org.id, user_id=org.admin.id))
    expired = runtime.tokens.issue(claims, kind=EVENTS, ttl_seconds=-60)
    await _assert_refused(live_server, expired)


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
async def test_a_garbage_stream_token_is_refused(live_server, token):
    await _assert_refused(live_server, token)


async def test_an_access_token_is_not_a_stream_token(live_server, factory):
    org = await factory.org()
    await _assert_refused(live_server, org.admin.access_token)


async def test_a_stream_token_is_not_an_access_token(live_server, factory):
    org = await factory.org()
    token = (await events_token(live_server, org.admin.headers))["token"]
    async with httpx.AsyncClient(base_url=live_server) as client:
        r = await client.get("/api-keys", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


async def _assert_refused(base_url: str, token: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        r = await client.get("/events", params={"token": token})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "UNAUTHORIZED"
