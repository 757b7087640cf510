"""One tool call's cost, end to end in process: CPU time, statements and transactions per
``POST /tools/{id}/test``, one call after another.

Figures that hardly move with the machine's load (``bench.tools_contention`` times calls, which a
loaded machine stretches): the app runs in this process on ``httpx.ASGITransport`` (routing,
authentication, the tool's read, the call through the engine and the outbound guard, the answer),
an admin's tool with a bearer connection calls the business API (``bench.tools.business_api``, in a
child process: its CPU is not counted; the loopback request is). Per call: this process's CPU time
(``time.process_time``: every thread, SQLite's driver threads too, and the in-process client's
share), as the lowest and the median of ``BATCHES`` batches (the lowest is the least disturbed by
other processes), the statements its engines' cursors execute and the transactions they begin, and
the Python function calls (a cProfile of a further batch: a count, the same on any machine).

    .venv/bin/python -m bench.tool_call_cost [--calls 1000] [--delay-ms 0] [--profile FILE]
        [--database-url postgresql+asyncpg://… [--redis-url redis://…]]

``--profile FILE`` writes that further batch's cProfile to FILE (``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.bot_studio import admin_of
from bench.machine import load_average, machine
from bench.outbound_cost import Counter
from bench.tools import make_tool, start_business_api
from cxinbox.app import create_app
from cxinbox.config import Settings
from cxinbox.core.logging import configure_logging
from cxinbox.migrations import upgrade
from cxinbox.runtime import Runtime

#: calls made first and not counted: connections opened, statements compiled and cached
WARM_UP = 20
BATCHES = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000, help="calls measured (in 10 batches)")
    parser.add_argument("--delay-ms", type=float, default=0, help="the business API's answering time")
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--profile", metavar="FILE", help="write the counted batch's cProfile to FILE")
    return parser.parse_args()


async def run(args: argparse.Namespace, data_dir: Path) -> None:
    remote, base = start_business_api(args.delay_ms / 1000)
    settings = Settings(
        env="test",
        data_dir=data_dir,
        database_url=args.database_url or f"sqlite+aiosqlite:///{data_dir}/bench.db",
        redis_url=args.redis_url,
        redis_prefix=f"bench-tools-{uuid.uuid4().hex[:8]}",
        secret_key="bench-secret-key",
        allow_private_urls=True,  # the business API is on loopback
        rate_limits="off",
        log_level="WARNING",
    )
    await asyncio.to_thread(upgrade, settings.database_url)
    runtime = Runtime(settings)
    await runtime.start(workers=False)
    app = create_app(runtime=runtime)
    app.state.runtime = runtime  # what the lifespan sets; the in-process transport runs none
    counter = Counter(runtime)
    try:
        _org, headers = await admin_of(runtime, "Tool call cost bench")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
            tool_id = await make_tool(client, base)

            async def call() -> None:
                r = await client.post(f"/api/v1/tools/{tool_id}/test", json={"params": {"orderId": "A-1"}})
                if r.status_code != 200 or not r.json()["data"]["ok"]:
                    raise SystemExit(f"the tool call failed: {r.text}")

            for _ in range(WARM_UP):
                await call()
            size = max(1, args.calls // BATCHES)
            statements, transactions = counter.statements, counter.transactions
            batches = []
            for _ in range(BATCHES):
                started = time.process_time()
                for _ in range(size):
                    await call()
                batches.append((time.process_time() - started) / size * 1000)
            statements = (counter.statements - statements) / (size * BATCHES)
            transactions = (counter.transactions - transactions) / (size * BATCHES)
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(size):
                await call()
            profile.disable()
            if args.profile:
                profile.dump_stats(args.profile)
    finally:
        await runtime.stop()
        remote.terminate()
    functions = pstats.Stats(profile).total_calls / size  # type: ignore[attr-defined]
    print(
        f"POST /tools/{{id}}/test in process, {size * BATCHES} calls one after another "
        f"({runtime.engine.dialect.name}); {machine()}; load average {load_average()}"
    )
    print(
        f"CPU per call: lowest batch {min(batches):.2f} ms, median {statistics.median(batches):.2f} ms; "
        f"statements {statements:.2f}, transactions {transactions:.2f}, "
        f"Python function calls {functions:,.0f}"
    )


def main() -> None:
    args = parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="cxinbox-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
