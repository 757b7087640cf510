"""The call the bot's tool loop makes: prepared in a session, run without one, and never raising for
bad arguments or a failing API (the model reads the outcome as the tool's result)."""

from __future__ import annotations

import asyncio
import json

from cxinbox.core.admission import FairAdmission, Precedence
from cxinbox.core.tenancy import TenantContext
from cxinbox.tools import engine, runner
from cxinbox.tools.repository import ToolRepository
from tests.tools.helpers import make_connection, make_tool, order_tool


async def test_the_bot_prepares_then_runs_and_reads_errors_as_results(client, runtime, people, business_api):
    connection = await make_connection(client, people.admin, business_api, baseUrl=business_api.url)
    await make_tool(client, people.admin, order_tool(connection["id"], resultPath="data.status"))
    await make_tool(client, people.admin, order_tool(connection["id"], name="failing", path="/status/404"))
    await make_tool(client, people.admin, order_tool(connection["id"], name="off", availableToBot=False))
    async with runtime.unit_of_work() as session:
        repo = ToolRepository(session, TenantContext.system(people.org.id))
        offered = [tool.name for tool, _ in await repo.for_bot()]
        plans = {
            name: await runner.prepare(session, runtime.secrets, await repo.by_name(name)) for name in offered
        }
    assert offered == ["failing", "order_status"]

    async def run(name, arguments):
        return await runner.run(plans[name], arguments, {}, allow_private=True, admission=runtime.tool_calls)

    invalid = await run("order_status", {"orderId": 5})
    assert (invalid.ok, invalid.problems[0]["field"]) == (False, "params.orderId")
    assert json.loads(invalid.for_model())["problems"][0]["field"] == "params.orderId"
    done = await run("order_status", {"orderId": "A-1"})
    assert json.loads(done.for_model()) == {"ok": True, "result": "shipped"}
    failed = json.loads((await run("failing", {"orderId": "1"})).for_model())
    assert (failed["ok"], failed["status"], failed["error"]) == (False, 404, "the service answered 404")


async def test_a_call_whose_answer_arrives_while_a_webhook_is_in_flight_reads_it_after(
    client, runtime, people, business_api, monkeypatch
):
    happened: list[str] = []
    read = engine.read

    def reading(*args, **kwargs):
        happened.append("answer read")
        return read(*args, **kwargs)

    monkeypatch.setattr(engine, "read", reading)
    connection = await make_connection(client, people.admin, business_api, baseUrl=business_api.url)
    await make_tool(client, people.admin, order_tool(connection["id"], path="/slow/{{params.orderId}}"))
    async with runtime.unit_of_work() as session:
        tool = await ToolRepository(session, TenantContext.system(people.org.id)).by_name("order_status")
        plan = await runner.prepare(session, runtime.secrets, tool)
    precedence = Precedence(max_give_way=60)
    admission = FairAdmission(total=1, per_organization=1, max_wait=10, precedence=precedence)
    call = asyncio.create_task(
        runner.run(plan, {"orderId": "200"}, {}, allow_private=True, admission=admission)
    )
    async with asyncio.timeout(10):
        while business_api.count() == 0:  # the request is out: its checkpoint before the call passed
            await asyncio.sleep(0.01)
    with precedence.going_first():  # a webhook arrives while the business API takes its time
        async with asyncio.timeout(10):
            while admission.running:  # answered: the slot is free
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert not call.done()  # the answer waits for the webhook
        happened.append("webhook answered")
    assert (await call).ok
    assert happened == ["webhook answered", "answer read"]  # decoded, redacted, parsed and logged after
