"""Tool calls: what the tools engine adds to the business API's own time.

A local HTTP server answers ``GET /orders/{id}`` after ``--delay-ms`` (50 by default), in a process of
its own (``business_api``: its work is the remote's time, not the engine's overhead). The bench runs
the call the bot's tool loop makes (``cxinbox.tools.runner.run``: arguments checked against the
schema, the template filled, the request sent through the outbound guard with a bearer token, the
answer redacted, cut by ``resultPath``) and, as the baseline, a bare ``httpx`` GET of the same URL on
one kept-alive client. It prints per-call and per-turn (three sequential calls) latency, and the
latency of ``--concurrent`` calls started at once.

Then whole bot turns (``--bot-turns``, one after another): a customer's webhook posted to the app in
process with its workers (as ``bench.bot_turns`` does), the fake LLM (``tests.fakes.llm``) scripted
to call the tool three times and then answer, each turn timed from the customer's message stored to
the bot's reply queued. Its overhead is that time minus the remote's three delays; the same turn with
a model that answers at once (no tool) is printed beside it, for what the turn costs without tools.

    .venv/bin/python -m bench.tools [--turns 100] [--delay-ms 50] [--concurrent 200] [--bot-turns 100]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from multiprocessing.process import BaseProcess
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.fakes.llm import Reply

from bench.bot_turns import Fakes, post, seed, settings_for, turn_overheads, until
from bench.machine import load_average
from cxinbox.app import create_app
from cxinbox.core.admission import FairAdmission
from cxinbox.core.logging import configure_logging
from cxinbox.migrations import upgrade
from cxinbox.models.inbox import SenderType
from cxinbox.models.tools import AuthType, BotTool, Connection
from cxinbox.runtime import Runtime
from cxinbox.tools import engine, runner
from cxinbox.tools.endpoints import Endpoint, seal_secrets

SCHEMA = {"type": "object", "properties": {"orderId": {"type": "string"}}, "required": ["orderId"]}
API = "/api/v1"


def serve(delay: float) -> tuple[str, uvicorn.Server]:
    async def order(request: Request) -> JSONResponse:
        await asyncio.sleep(delay)
        return JSONResponse(
            {"data": {"id": request.path_params["id"], "status": "shipped", "items": [1, 2, 3]}}
        )

    app = Starlette(routes=[Route("/orders/{id}", order)])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}", server


def business_api(delay: float, ports: multiprocessing.Queue) -> None:
    """The business API in a process of its own, so its work does not share the bench's CPU time."""
    base, _server = serve(delay)
    ports.put(base)
    while True:
        time.sleep(3600)


def start_business_api(delay: float) -> tuple[BaseProcess, str]:
    """``business_api`` started (in a fresh interpreter, without this process's loop and engines):
    the process, to terminate, and its base URL."""
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    process = context.Process(target=business_api, args=(delay, ports), daemon=True)
    process.start()
    return process, ports.get(timeout=120)


async def make_tool(client: httpx.AsyncClient, base: str) -> str:
    """An admin's tool over a bearer connection to ``base`` (``client`` sends as the admin), tried
    once: its id."""
    r = await client.post(
        f"{API}/connections",
        json={
            "name": "Orders",
            "baseUrl": base,
            "authType": "BEARER",
            "secrets": {"token": "bench-token-123456"},
        },
    )
    r.raise_for_status()
    r = await client.post(
        f"{API}/tools",
        json={
            "name": "order_status",
            "description": "Look up an order",
            "parameters": SCHEMA,
            "connectionId": r.json()["data"]["id"],
            "path": "/orders/{{params.orderId}}",
            "resultPath": "data.status",
        },
    )
    r.raise_for_status()
    tool_id: str = r.json()["data"]["id"]
    r = await client.post(f"{API}/tools/{tool_id}/test", json={"params": {"orderId": "A-1"}})
    if not r.json()["data"]["ok"]:
        raise SystemExit(f"the tool does not reach the business API: {r.text}")
    return tool_id


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def bot_turns(data_dir: Path, base: str, count: int) -> tuple[list[float], list[float]]:
    """``count`` turns with three tool calls against ``base``, then ``count`` without: each turn's
    milliseconds from the customer's message stored to the reply queued."""
    fakes = Fakes()
    settings = settings_for(data_dir, argparse.Namespace(database_url=None, redis_url=None), fakes)
    await asyncio.to_thread(upgrade, settings.database_url)
    runtime = Runtime(settings)
    await runtime.start(workers=True)
    app = create_app(runtime=runtime)
    app.state.runtime = runtime  # what the lifespan sets; the in-process transport runs none
    lookup = Reply("", tool_call=("order_status", {"orderId": "A-1"}))
    answer = Reply("Tu pedido A-1 ya fue enviado.")
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            series = []
            for replies in ([lookup, lookup, lookup, answer], [answer]):
                warm_up = 5
                org = await seed(runtime, fakes, bot=True, replies=replies * (warm_up + count))
                await add_tool(runtime, org.id, base)
                for n in range(1, warm_up + count + 1):
                    await post(client, org, time.perf_counter())
                    await until(runtime, org, SenderType.BOT, n)
                series.append((await turn_overheads(runtime, org))[warm_up:])
    finally:
        await runtime.stop()
        fakes.stop()
    return series[0], series[1]


async def add_tool(runtime: Runtime, organization_id: str, base: str) -> None:
    async with runtime.unit_of_work() as session:
        connection = Connection(
            organization_id=organization_id,
            name="Orders",
            base_url=base,
            auth_type=AuthType.BEARER,
            secrets_ciphertext=seal_secrets(runtime.secrets, {"token": "bench-token-123456"}),
        )
        session.add(connection)
        await session.flush()
        session.add(
            BotTool(
                organization_id=organization_id,
                name="order_status",
                description="Look up an order",
                parameters=SCHEMA,
                connection_id=connection.id,
                path="/orders/{{params.orderId}}",
                result_path="data.status",
            )
        )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--bot-turns", type=int, default=100, help="whole bot turns with three tool calls")
    args = parser.parse_args()
    configure_logging("WARNING")
    load = os.getloadavg()
    remote, base = start_business_api(args.delay_ms / 1000)
    # as many slots as calls started at once: this part measures the engine, not the admission bound
    admission = FairAdmission(args.concurrent, args.concurrent, max_wait=60)
    plan = runner.ToolPlan(
        organization_id="bench",
        tool_id="bench",
        name="order_status",
        parameters=SCHEMA,
        endpoint=Endpoint(base_url=base, auth_type=AuthType.BEARER, secrets={"token": "bench-token-123456"}),
        request=engine.RequestTemplate(path="/orders/{{params.orderId}}"),
        result_path="data.status",
    )

    async def tool_call() -> None:
        outcome = await runner.run(plan, {"orderId": "A-1"}, {}, allow_private=True, admission=admission)
        assert outcome.ok, outcome

    async with httpx.AsyncClient() as bare:

        async def bare_call() -> None:
            (await bare.get(f"{base}/orders/A-1", headers={"Authorization": "Bearer x"})).raise_for_status()

        for call in (bare_call, tool_call):  # warm-up: connections, the TLS context, schema compiling
            for _ in range(5):
                await call()
        rows = []
        for label, call in (("bare httpx (kept-alive)", bare_call), ("tool call (runner.run)", tool_call)):
            calls: list[float] = []
            turns: list[float] = []
            for _ in range(args.turns):
                started = time.perf_counter()
                for _ in range(3):
                    calls.append(await timed(call))
                turns.append((time.perf_counter() - started) * 1000)
            together = await asyncio.gather(*(timed(call) for _ in range(args.concurrent)))
            rows.append((label, calls, turns, list(together)))
    try:
        with tempfile.TemporaryDirectory(prefix="cxinbox-bench-tools-") as tmp:
            with_tools, without = await bot_turns(Path(tmp), base, args.bot_turns)
    finally:
        remote.terminate()
    print(f"remote answers after {args.delay_ms:.0f} ms; {args.turns} turns of 3 calls; ", end="")
    print(f"{args.concurrent} at once")
    print(
        f"{'':26} {'call p50':>9} {'call p99':>9} {'over p50':>9} {'over p99':>9} {'turn p50':>9} "
        f"{'turn p99':>9} {'conc p50':>9} {'conc p99':>9}"
    )
    for label, calls, turns, together in rows:
        over = [c - args.delay_ms for c in calls]
        figures = [
            f"{value:9.1f}"
            for series in (calls, over, turns, together)
            for value in (statistics.median(series), percentile(series, 0.99))
        ]
        print(f"{label:26} {' '.join(figures)}")
    print("milliseconds; 'over' is a call's time beyond the remote's delay")
    print(
        f"\nwhole bot turns, one at a time ({args.bot_turns} each), customer's message stored to reply queued"
    )
    print(f"{'':34} {'turn p50':>9} {'turn p99':>9} {'over p50':>9} {'over p99':>9}")
    remote = 3 * args.delay_ms
    for label, series, beyond in (
        ("three tool calls, then the answer", with_tools, remote),
        ("the answer at once (no tool)", without, 0.0),
    ):
        over = [t - beyond for t in series]
        figures = [f"{statistics.median(s):9.1f} {percentile(s, 0.99):9.1f}" for s in (series, over)]
        print(f"{label:34} {' '.join(figures)}")
    print(f"'over' is the turn beyond the remote's {remote:.0f} ms (3 x {args.delay_ms:.0f}); aim p99 < 20")
    print(
        f"{os.cpu_count()} cores; load average (1, 5, 15 min) before {load_average(load)}, "
        f"after {load_average()}"
    )


if __name__ == "__main__":
    asyncio.run(main())
