"""``python -m bench.console``: the web console's inbox first render at N conversations (the
generated inbox of ``bench.inbox_queries``), then a live update's delay from webhook to 200 open
consoles' event streams and to a few real Chromium pages' DOM."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics

from sqlalchemy import select

from bench.console.live import Delays, live_delays
from bench.console.render import first_render
from bench.inbox_queries.dataset import ensure_dataset
from bench.inbox_queries.measure import api_server, migrated_runtime, table
from bench.machine import load_average, machine
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime

APP_SECRET = "bench-console-app-secret"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CXINBOX_BENCH_DATABASE_URL", "sqlite+aiosqlite:///./data/bench-inbox.db"),
        help="SQLAlchemy URL of a database of its own (default: $CXINBOX_BENCH_DATABASE_URL or "
        "./data/bench-inbox.db)",
    )
    parser.add_argument("--redis-url", default=None, help="the server's Redis (event fan-out), if any")
    parser.add_argument("-n", "--conversations", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--clients", type=int, default=200, help="open event streams (default 200)")
    parser.add_argument("--browsers", type=int, default=3, help="headless Chromium pages (default 3)")
    parser.add_argument("--updates", type=int, default=20, help="webhooks sent, one at a time (default 20)")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between updates (default 1)")
    parser.add_argument("--skip-render", action="store_true")
    parser.add_argument("--skip-live", action="store_true")
    return parser.parse_args()


async def live_number(runtime: Runtime, organization_id: str) -> str:
    """A number of the organization that webhooks reach (Meta's ids are digits; the generated
    inbox's own number is not one): added once, then reused."""
    async with runtime.unit_of_work() as session:
        numbers = await session.scalars(
            select(WhatsAppAccount.phone_number_id).where(WhatsAppAccount.organization_id == organization_id)
        )
        number = next((n for n in numbers if n.isdigit()), None)
        if number is None:
            number = str(secrets.randbelow(9 * 10**14) + 10**14)
            session.add(
                WhatsAppAccount(organization_id=organization_id, waba_id=number, phone_number_id=number)
            )
    return number


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def live_table(delays: Delays, clients: int, browsers: int) -> str:
    lines = ["| delay from webhook to | samples | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|"]
    for label, samples in (
        (f"the event on each of {clients} open event streams", delays.stream_ms),
        (f"the DOM of {browsers} Chromium inbox pages", delays.dom_ms),
    ):
        if samples:
            lines.append(
                f"| {label} | {len(samples)} | {statistics.median(samples):.1f} | {_p(samples, 0.95):.1f} | "
                f"{max(samples):.1f} |"
            )
    lines.append(
        f"\nmissed (never arrived within 30 s): {delays.missed}; streams reopened: {delays.reopened}"
    )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> None:
    env, data_dir, runtime = await migrated_runtime(
        args.database_url, prefix="cxinbox-bench-console-", env={"CXINBOX_META_APP_SECRET": APP_SECRET}
    )
    if args.redis_url:
        env["CXINBOX_REDIS_URL"] = args.redis_url
    try:
        bench = await ensure_dataset(runtime, args.conversations)
        number = await live_number(runtime, bench.organization_id)
    finally:
        await runtime.stop()
    print(f"load average before: {load_average()}")
    with api_server(env, data_dir) as base:
        site = base.removesuffix("/api/v1")
        if not args.skip_render:
            print(f"\nfirst render, {args.conversations:,} conversations, {args.requests} requests each")
            print(table(await first_render(site, bench.admin_token, args.requests)))
        if not args.skip_live:
            delays = await live_delays(
                site,
                bench.admin_token,
                number,
                APP_SECRET,
                clients=args.clients,
                browsers=args.browsers,
                updates=args.updates,
                gap=args.gap,
            )
            print(f"\nlive: {args.updates} webhooks, {args.clients} streams, {args.browsers} browsers")
            print(live_table(delays, args.clients, args.browsers))
    print(f"\n{runtime.engine.dialect.name}; {machine()}; load average after: {load_average()}")


def main() -> None:
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
