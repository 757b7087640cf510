"""The bound on tool calls at the app's edge (``core.admission.ToolCallGate``): requests to the
routes that call a business's API wait for a slot before they are routed, authenticated or read, a
wait past the bound is 429 ``RATE_LIMITED`` with ``Retry-After``, one caller's flood leaves room
for another's, and nothing else (webhooks above all) is ever held."""

from __future__ import annotations

import asyncio

import pytest

from cxinbox.core.admission import FairAdmission
from tests.fixtures.errors import error_of
from tests.fixtures.whatsapp import for_number, post_webhook, sample, unique_number
from tests.tools.test_tool_admission import slow_tool


def edge_of(runtime, monkeypatch: pytest.MonkeyPatch, total: int, max_wait: float) -> FairAdmission:
    edge = FairAdmission(total=total, per_organization=1, max_wait=max_wait)
    monkeypatch.setattr(runtime, "tool_call_requests", edge)
    return edge


@pytest.fixture
def one_request_each(runtime, monkeypatch: pytest.MonkeyPatch) -> FairAdmission:
    """Two requests past the edge at once, one per caller, and a short wait."""
    return edge_of(runtime, monkeypatch, 2, 0.5)


def call_tool(client, tool_id: str, headers: dict[str, str], ms: str = "10"):
    return client.post(f"/tools/{tool_id}/test", json={"params": {"orderId": ms}}, headers=headers)


async def holding(client, tool_id: str, headers: dict[str, str], edge: FairAdmission, count: int):
    """A slow call (two seconds at the business's API), once it holds its edge slot."""
    task = asyncio.create_task(call_tool(client, tool_id, headers, "2000"))
    async with asyncio.timeout(10):
        while edge.running < count:
            await asyncio.sleep(0.01)
    return task


async def test_a_caller_beyond_its_share_waits_at_the_edge_and_is_told_to_retry_while_another_goes_through(
    client, people, factory, business_api, one_request_each
):
    flooding = await slow_tool(client, people.admin, business_api)
    other = await factory.org()
    quiet = await slow_tool(client, other.admin, business_api)
    held = await holding(client, flooding, people.admin.headers, one_request_each, 1)

    refused, through = await asyncio.gather(
        call_tool(client, flooding, people.admin.headers), call_tool(client, quiet, other.admin.headers)
    )

    error = error_of(refused, 429, "RATE_LIMITED")
    assert refused.headers["Retry-After"] == "1" and error["details"] == {"retryAfter": 1}
    assert through.status_code == 200 and through.json()["data"]["ok"] is True
    assert (await held).json()["data"]["result"] == {"data": {"status": "slow but shipped"}}
    assert one_request_each.running == 0


async def test_waiting_requests_are_held_before_authentication(
    client, people, business_api, runtime, monkeypatch
):
    edge = edge_of(runtime, monkeypatch, 1, 0.5)
    tool_id = await slow_tool(client, people.admin, business_api)
    held = await holding(client, tool_id, people.admin.headers, edge, 1)
    forged = {"Authorization": "Bearer not-a-token"}

    # held at the edge: not yet authenticated (a 401 would mean it got past), then told to retry
    error_of(await call_tool(client, tool_id, forged), 429, "RATE_LIMITED")
    assert (await held).status_code == 200
    error_of(await call_tool(client, tool_id, forged), 401, "UNAUTHORIZED")  # the edge is free again


async def test_webhooks_and_other_routes_are_never_held(client, people, business_api, runtime, monkeypatch):
    edge = edge_of(runtime, monkeypatch, 1, 30)
    tool_id = await slow_tool(client, people.admin, business_api)
    held = await holding(client, tool_id, people.admin.headers, edge, 1)

    webhook = await post_webhook(client, for_number(sample("message.json", "text"), unique_number()))
    listed = await client.get("/tools", headers=people.admin.headers)

    assert webhook.status_code == 200, webhook.text
    assert listed.status_code == 200 and not held.done()  # answered while the slot is still taken
    assert (await held).status_code == 200


def test_webhook_deliveries_go_first_and_tool_calls_give_way_to_them(app, runtime):
    from cxinbox.core.admission import ToolCallGate

    [gate] = [m for m in app.user_middleware if m.cls is ToolCallGate]
    ahead = gate.kwargs["ahead"]
    for path in ("/api/v1/webhooks/whatsapp", "/api/v1/webhooks/stripe"):
        assert [methods for pattern, methods in ahead if pattern.match(path)] == [{"POST"}]
    assert runtime.tool_call_requests.precedence is runtime.tool_calls.precedence is not None
