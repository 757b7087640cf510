"""Webhook acknowledgements while tool calls run: do 200 tool calls in flight slow down the
acknowledgement of WhatsApp webhooks in the same server?

It starts ``cxinbox serve`` (SQLite in a temporary directory, the webhook bench's ``Server``), a
local business API answering after ``--delay-ms`` (50) in a process of its own, and creates a
connection and a tool over the API. Then it sends signed webhook POSTs at ``--rate`` per second
(open loop, the webhook bench's load generator) twice: while idle, and while another process keeps
``--concurrent`` ``POST /tools/{id}/test`` requests in flight against the same server (each a real
tool call through the engine and the outbound guard). It prints the acknowledgements' p50/p99 in
both phases and their ratio, and the tool calls' own latency. ``--tool-calls-max`` and
``--tool-calls-max-per-org`` set the server's admission bound (``core.admission``).

    .venv/bin/python -m bench.tools_contention [--concurrent 200] [--rate 20] [--seconds 10]
        [--tool-calls-max N] [--tool-calls-max-per-org N]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.bot_studio import admin_of
from bench.loadgen import Results, connect, open_loop
from bench.machine import load_average
from bench.tools import API, business_api, make_tool, percentile
from bench.webhook_ingest import Server, connect_account, signed_requests, wait_healthy
from cxinbox.config import Settings
from cxinbox.core.logging import configure_logging
from cxinbox.migrations import upgrade
from cxinbox.runtime import Runtime


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--rate", type=int, default=20, help="webhook POSTs per second")
    parser.add_argument("--seconds", type=float, default=10, help="each phase's length")
    parser.add_argument("--connections", type=int, default=16, help="webhook client connections")
    parser.add_argument(
        "--tool-calls-max", type=int, help="the server's CXINBOX_TOOL_CALLS_MAX (unset: its default)"
    )
    parser.add_argument(
        "--tool-calls-max-per-org", type=int, help="CXINBOX_TOOL_CALLS_MAX_PER_ORG (unset: its default)"
    )
    return parser.parse_args()


def tool_load(
    url: str,
    tool_id: str,
    headers: dict[str, str],
    concurrent: int,
    seconds: float,
    out: multiprocessing.Queue,
) -> None:
    """``concurrent`` workers, each sending ``POST /tools/{id}/test`` again as soon as it is answered
    (after ``Retry-After`` when the server says it is busy: 429). Failures are counted by kind: the
    client's exception, the status, or the tool's ``error``."""

    async def run() -> tuple[list[float], Counter[str], int]:
        latencies: list[float] = []
        failures: Counter[str] = Counter()
        busy = 0
        deadline = time.perf_counter() + seconds
        limits = httpx.Limits(max_connections=concurrent, max_keepalive_connections=concurrent)
        async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:

            async def worker() -> None:
                nonlocal busy
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    try:
                        r = await client.post(
                            f"{API}/tools/{tool_id}/test", json={"params": {"orderId": "A-1"}}
                        )
                    except httpx.HTTPError as exc:
                        failures[type(exc).__name__] += 1
                        continue
                    if r.status_code == 200 and r.json()["data"]["ok"]:
                        latencies.append((time.perf_counter() - started) * 1000)
                    elif r.status_code == 429:
                        busy += 1
                        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                    elif r.status_code == 200:
                        failures[str(r.json()["data"]["error"])[:60]] += 1
                    else:
                        failures[f"HTTP {r.status_code}"] += 1

            await asyncio.gather(*(worker() for _ in range(concurrent)))
        return latencies, failures, busy

    out.put(asyncio.run(run()))


async def acknowledgements(url: str, number: str, args: argparse.Namespace, offset: int) -> Results:
    parts = urlsplit(url)
    count = int(args.rate * args.seconds)
    requests = signed_requests(parts.netloc, number, count, offset, statuses=False)
    connections = await connect(parts.hostname or "127.0.0.1", parts.port or 80, args.connections)
    try:
        return await open_loop(connections, requests, args.rate)
    finally:
        for conn in connections:
            conn.writer.close()


def row(label: str, acked: Results) -> str:
    p50, p99 = acked.percentile(50) * 1000, acked.percentile(99) * 1000
    return f"{label:34} {acked.ok:>6} {acked.errors:>6} {p50:>9.1f} {p99:>9.1f}"


async def run(args: argparse.Namespace, data_dir: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    remote = context.Process(target=business_api, args=(args.delay_ms / 1000, ports), daemon=True)
    remote.start()
    base = ports.get(timeout=120)  # a spawned interpreter starts slowly on a loaded machine
    database_url = f"sqlite+aiosqlite:///{data_dir}/bench.db"
    secret_key = secrets.token_urlsafe(32)
    await asyncio.to_thread(upgrade, database_url)
    os.environ["CXINBOX_ALLOW_PRIVATE_URLS"] = "true"  # the business API is on loopback
    for name, value in (
        ("CXINBOX_TOOL_CALLS_MAX", args.tool_calls_max),
        ("CXINBOX_TOOL_CALLS_MAX_PER_ORG", args.tool_calls_max_per_org),
    ):
        if value is not None:
            os.environ[name] = str(value)
    limits = Settings(env="test", database_url=database_url, secret_key=secret_key)
    server = Server(database_url, None, secret_key, data_dir)
    settings = Settings(
        env="test", data_dir=data_dir, database_url=database_url, secret_key=secret_key, log_level="WARNING"
    )
    runtime = Runtime(settings)
    await runtime.start(workers=False)
    try:
        await wait_healthy(server.url)
        _org, headers = await admin_of(runtime, "Tools contention bench")
        _webhook_org, number = await connect_account(settings, runtime.sessionmaker)
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
            tool_id = await make_tool(client, base)
        await acknowledgements(server.url, number, argparse.Namespace(**{**vars(args), "seconds": 2}), 0)
        idle_cpu = server.cpu_seconds()
        idle = await acknowledgements(server.url, number, args, 10**6)
        idle_cpu = server.cpu_seconds() - idle_cpu
        loaded_cpu = server.cpu_seconds()
        results = context.Queue()
        load = context.Process(
            target=tool_load,
            args=(server.url, tool_id, headers, args.concurrent, args.seconds + 4, results),
        )
        load.start()
        await asyncio.sleep(2)  # the tool calls ramp up: every worker has a connection in flight
        loaded = await acknowledgements(server.url, number, args, 2 * 10**6)
        tool_latencies, tool_failures, tool_busy = await asyncio.to_thread(results.get, True, 120)
        loaded_cpu = server.cpu_seconds() - loaded_cpu
        load.join()
    finally:
        await runtime.stop()
        server.stop()
        remote.terminate()
    load_avg = load_average()
    print(
        f"webhooks at {args.rate}/s for {args.seconds:.0f} s per phase; {args.concurrent} tool calls in "
        f"flight against a remote answering in {args.delay_ms:.0f} ms; {os.cpu_count()} cores, "
        f"load average {load_avg}; the server's tool-call slots: {limits.tool_calls_max} "
        f"({limits.tool_calls_max_per_org} per organization)"
    )
    print(f"{'webhook acknowledgements':34} {'acked':>6} {'errors':>6} {'p50 ms':>9} {'p99 ms':>9}")
    print(row("idle", idle))
    print(row(f"{args.concurrent} tool calls in flight", loaded))
    ratio = loaded.percentile(99) / idle.percentile(99)
    print(f"p99 ratio (loaded / idle): {ratio:.2f}x (aim: within 1.2x)")
    if tool_latencies:
        print(
            f"tool calls (POST /tools/{{id}}/test): {len(tool_latencies)} ok, "
            f"{tool_failures.total()} failed{f' {dict(tool_failures)}' if tool_failures else ''}, "
            f"{tool_busy} told to retry (429), "
            f"{len(tool_latencies) / (args.seconds + 4):.0f}/s, "
            f"p50 {statistics.median(tool_latencies):.0f} ms, "
            f"p99 {percentile(tool_latencies, 0.99):.0f} ms"
        )
        # the server's CPU time (hardly moved by the machine's load) beyond the webhooks' idle share
        per_call = (loaded_cpu - idle_cpu) / len(tool_latencies) * 1000
        print(f"server CPU per tool call: {per_call:.1f} ms (webhooks alone: {idle_cpu:.2f} s per phase)")


def main() -> None:
    args = parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="cxinbox-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
