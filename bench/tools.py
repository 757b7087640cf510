"""Tool calls: what the tools engine adds to the business API's own time.

A local HTTP server answers ``GET /orders/{id}`` after ``--delay-ms`` (50 by default). The bench runs
the call the bot's tool loop makes (``cxinbox.tools.runner.run``: arguments checked against the
schema, the template filled, the request sent through the outbound guard with a bearer token, the
answer redacted, cut by ``resultPath``) and, as the baseline, a bare ``httpx`` GET of the same URL on
one kept-alive client. It prints per-call and per-turn (three sequential calls) latency, and the
latency of ``--concurrent`` calls started at once.

    .venv/bin/python -m bench.tools [--turns 100] [--delay-ms 50] [--concurrent 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from collections.abc import Awaitable, Callable

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cxinbox.core.logging import configure_logging
from cxinbox.models.tools import AuthType
from cxinbox.tools import engine, runner
from cxinbox.tools.endpoints import Endpoint

SCHEMA = {"type": "object", "properties": {"orderId": {"type": "string"}}, "required": ["orderId"]}


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


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--concurrent", type=int, default=200)
    args = parser.parse_args()
    configure_logging("WARNING")
    base, server = serve(args.delay_ms / 1000)
    plan = runner.ToolPlan(
        tool_id="bench",
        name="order_status",
        parameters=SCHEMA,
        endpoint=Endpoint(base_url=base, auth_type=AuthType.BEARER, secrets={"token": "bench-token-123456"}),
        request=engine.RequestTemplate(path="/orders/{{params.orderId}}"),
        result_path="data.status",
    )

    async def tool_call() -> None:
        outcome = await runner.run(plan, {"orderId": "A-1"}, {}, allow_private=True)
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

    server.should_exit = True
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


if __name__ == "__main__":
    asyncio.run(main())
