"""Tool calls one process makes at once: an organization's calls beyond its share wait, and a call
that finds no slot in time is 429 ``RATE_LIMITED`` with ``Retry-After`` (never a 500, never a 200
pretending the remote failed), while another organization's call goes through."""

from __future__ import annotations

import asyncio

import pytest

from cxinbox.core.admission import FairAdmission
from tests.fixtures.errors import error_of
from tests.tools.helpers import make_connection, make_tool, order_tool


@pytest.fixture
def one_call_each(runtime, monkeypatch: pytest.MonkeyPatch) -> FairAdmission:
    admission = FairAdmission(total=2, per_organization=1, max_wait=0.5)
    monkeypatch.setattr(runtime, "tool_calls", admission)
    return admission


async def slow_tool(client, admin, business_api) -> str:
    connection = await make_connection(client, admin, business_api, baseUrl=business_api.url)
    tool = await make_tool(client, admin, order_tool(connection["id"], path="/slow/{{params.orderId}}"))
    return str(tool["id"])


async def test_a_flooding_organization_waits_and_is_told_to_retry_while_another_goes_through(
    client, people, factory, business_api, one_call_each
):
    flooding = await slow_tool(client, people.admin, business_api)
    other = await factory.org()
    quiet = await slow_tool(client, other.admin, business_api)

    def call(tool_id, admin, ms):
        return client.post(f"/tools/{tool_id}/test", json={"params": {"orderId": ms}}, headers=admin.headers)

    holding = asyncio.create_task(call(flooding, people.admin, "2000"))
    async with asyncio.timeout(10):
        while one_call_each.running == 0:  # the first call holds the organization's one slot
            await asyncio.sleep(0.01)
    refused, through = await asyncio.gather(
        call(flooding, people.admin, "10"), call(quiet, other.admin, "10")
    )

    error = error_of(refused, 429, "RATE_LIMITED")
    assert refused.headers["Retry-After"] == "1" and error["details"] == {"retryAfter": 1}
    assert through.status_code == 200 and through.json()["data"]["ok"] is True
    held = await holding
    assert held.json()["data"]["result"] == {"data": {"status": "slow but shipped"}}
    assert one_call_each.running == 0
