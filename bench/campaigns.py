"""Campaigns against the fake Graph API, with real processes: creation time of a 100,000-recipient
campaign, the dispatch rate held to the governor's setting, the webhook acknowledgement time during
dispatch against idle, and exactly-once after ``kill -9``.

For each governor setting (``--rates``, sends per second per number):
1. ``cxinbox serve`` (SQLite, one process; ``serve --no-workers`` + ``cxinbox worker`` with
   ``--postgres`` and ``--redis-url``) starts with ``CXINBOX_WHATSAPP_SEND_RATE_PER_SECOND`` set; an
   organization registers, connects a number of the fake Graph API (tier unlimited) and gets an
   approved template.
2. Inbound customer messages are posted as signed webhooks (20/s, one at a time) for
   ``--ack-seconds``: their acknowledgement times while idle.
3. ``POST /campaigns`` with ``--recipients`` numbers: the time of the request.
4. Sends reaching the fake Graph API are counted for ``--seconds`` after a 5 s warm-up, while the
   same webhook stream runs again: the rate against the setting, the server processes' CPU time per
   send (what bounds the rate on a machine's cores), and the acknowledgement p99 during dispatch
   against idle. Then the campaign is cancelled.
5. A second campaign of ``--crash-recipients``: the process that sends (the worker, or the one
   process on SQLite) is killed with SIGKILL when about half of it is sent, and started again; like
   Meta, the bench then posts the ``sent`` status of every message the fake accepted, with the
   send's ``biz_opaque_callback_data``. The run waits until the campaign is COMPLETED (a send whose
   outcome stayed unknown is settled ``--outcome-window`` seconds after its 90 s lease); then each
   number's sends at the fake are counted: duplicates (more than one), numbers never sent, and how
   many of those the campaign reports UNKNOWN or FAILED (the rest would be silent skips).

    .venv/bin/python -m bench.campaigns [--rates 80,1000] [--seconds 60] [--recipients 100000]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1/postgres --redis-url redis://127.0.0.1:6379/0
         [--workers 2] [--worker-nice 10]]

With ``--workers N`` the kill -9 hits the first worker; the others keep sending meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine
from tests.fakes.graph import FakeGraph

from bench.campaign_meta import ack_times, p99, post_sent_statuses
from bench.crash import Fleet, backend, connect_number, register_organization
from bench.machine import cpu_seconds, load_average, machine, runqueue_seconds
from cxinbox.migrations import upgrade
from cxinbox.models.templates import MessageTemplate, TemplateStatus
from cxinbox.models.whatsapp import WhatsAppAccount

WARMUP_SECONDS = 5.0
#: a send of unknown outcome waits out its lease (90 s) and the outcome window before it is settled
SETTLE_TIMEOUT_SECONDS = 900.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="80,1000", help="governor settings to run, sends/s per number")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the send rate is measured")
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--crash-recipients", type=int, default=3_000)
    parser.add_argument("--ack-seconds", type=float, default=20.0, help="idle webhook stream's length")
    parser.add_argument("--outcome-window", type=float, default=30.0, help="the server's outcome window, s")
    parser.add_argument(
        "--postgres", default=None, help="a PostgreSQL server URL (a database of its own is made)"
    )
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (with Redis)")
    parser.add_argument(
        "--worker-nice", type=int, default=0, help="the workers' niceness (10: the API's acks go first)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="print the end of each process's log")
    return parser.parse_args()


async def setup(
    client: httpx.AsyncClient, graph: FakeGraph, database_url: str
) -> tuple[dict[str, str], str, str]:
    """An organization with a connected number (tier unlimited) and an approved template; answers
    its headers, the template's id and the number's phone number id."""
    headers = await register_organization(client)
    number = await connect_number(client, headers, graph)
    template = {
        "name": "bench_notice",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your order has shipped."}],
    }
    r = await client.post("/templates", json=template, headers=headers)
    r.raise_for_status()
    template_id = str(r.json()["data"]["id"])
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            # Meta's approval and a number past the messaging tiers, as the bench's premises
            await connection.execute(
                update(MessageTemplate)
                .where(MessageTemplate.id == template_id)
                .values(status=TemplateStatus.APPROVED)
            )
            await connection.execute(update(WhatsAppAccount).values(messaging_limit_tier="TIER_UNLIMITED"))
    finally:
        await engine.dispose()
    return headers, template_id, number


def numbers(count: int, first: int) -> list[str]:
    return [f"+55119{first + i:08d}" for i in range(count)]


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], template_id: str, phones: list[str]
) -> tuple[str, float]:
    body = {"name": "Bench", "templateId": template_id, "recipients": [{"phone": p} for p in phones]}
    started = time.perf_counter()
    r = await client.post("/campaigns", json=body, headers=headers)
    elapsed = time.perf_counter() - started
    r.raise_for_status()
    return str(r.json()["data"]["id"]), elapsed


def sent_to(graph: FakeGraph, wanted: set[str]) -> Counter[str]:
    with graph._lock:  # noqa: SLF001 - the fake's own record of what reached it
        return Counter(str(s["to"]) for s in graph.state.sent if str(s.get("to")) in wanted)


async def campaign(client: httpx.AsyncClient, headers: dict[str, str], campaign_id: str) -> dict[str, Any]:
    r = await client.get(f"/campaigns/{campaign_id}?limit=1", headers=headers)
    r.raise_for_status()
    return dict(r.json()["data"])


async def measure_rate(
    fleet: Fleet, graph: FakeGraph, seconds: float, idle_cpu: float
) -> tuple[float, float, float, float]:
    """Sends per second over ``seconds`` after the warm-up, and the CPU milliseconds the server's
    processes spent per send meanwhile (the database server's own not counted): in all, and net of
    ``idle_cpu`` (CPU seconds per second with the webhook stream alone), which weighs on each send
    the more the fewer sends a second there are. Last, the seconds per second the server's
    processes were runnable but waited for a core: a rate short of the setting while they wait
    that long is the machine's load, not the pacing."""
    await asyncio.sleep(WARMUP_SECONDS)
    pids = [process.pid for process in fleet.processes.values()]
    before, cpu_before, waited_before = len(graph.state.sent), cpu_seconds(pids), runqueue_seconds(pids)
    await asyncio.sleep(seconds)
    sends = len(graph.state.sent) - before
    spent = cpu_seconds(pids) - cpu_before
    waited = (runqueue_seconds(pids) - waited_before) / seconds
    net = (spent - idle_cpu * seconds) * 1000 / max(1, sends)
    return sends / seconds, spent * 1000 / max(1, sends), net, waited


async def idle_acks(
    fleet: Fleet, client: httpx.AsyncClient, number: str, seconds: float
) -> tuple[list[float], float]:
    """The webhook stream's acknowledgement times while nothing else runs, and the CPU seconds per
    second the server's processes spent on it over the second half (the first still warms up the
    processes after the set-up)."""
    times = await ack_times(client, number, seconds / 2)
    pids = [process.pid for process in fleet.processes.values()]
    started, cpu_before = time.monotonic(), cpu_seconds(pids)
    times += await ack_times(client, number, seconds / 2)
    return times, (cpu_seconds(pids) - cpu_before) / (time.monotonic() - started)


async def crash_run(
    fleet: Fleet,
    client: httpx.AsyncClient,
    graph: FakeGraph,
    setting: tuple[dict[str, str], str, str],
    count: int,
) -> tuple[int, int, int, int, float]:
    """Duplicates, numbers never sent, of those the ones reported (UNKNOWN or FAILED), UNKNOWN in
    all, and seconds from the restart to COMPLETED."""
    headers, template_id, number = setting
    phones = numbers(count, 50_000_000)
    wanted = {p.lstrip("+") for p in phones}
    campaign_id, _ = await create(client, headers, template_id, phones)
    while sum(sent_to(graph, wanted).values()) < count // 2:
        await asyncio.sleep(0.05)
    victim = Fleet.WORKER if Fleet.WORKER in fleet.names else Fleet.SERVER
    fleet.kill(victim)
    await fleet.start(victim)
    restarted = time.monotonic()
    reported: set[str] = set()
    deadline = restarted + SETTLE_TIMEOUT_SECONDS
    while (found := await campaign(client, headers, campaign_id))["status"] != "COMPLETED":
        if time.monotonic() > deadline:
            raise RuntimeError("the campaign did not complete after the restart")
        reported = await _post_new_statuses(client, graph, number, wanted, reported)
        await asyncio.sleep(1.0)
    sends = sent_to(graph, wanted)
    duplicates = sum(1 for n in sends.values() if n > 1)
    unsent = wanted - set(sends)
    counts = found["counts"]
    failed_or_unknown = await _reported_unsent(client, headers, campaign_id, unsent)
    return duplicates, len(unsent), failed_or_unknown, int(counts["unknown"]), time.monotonic() - restarted


async def _post_new_statuses(
    client: httpx.AsyncClient, graph: FakeGraph, number: str, wanted: set[str], reported: set[str]
) -> set[str]:
    """Meta's ``sent`` status of each accepted send not reported yet; answers the keys reported."""
    with graph._lock:  # noqa: SLF001 - the fake's own record of what reached it
        new = [
            (str(s["to"]), graph.state.wamid_of[key], key)
            for s in graph.state.sent
            if str(s.get("to")) in wanted
            and (key := str(s.get("biz_opaque_callback_data"))) not in reported
            and key in graph.state.wamid_of
        ]
    await post_sent_statuses(client, number, new)
    return reported | {key for _, _, key in new}


async def _reported_unsent(
    client: httpx.AsyncClient, headers: dict[str, str], campaign_id: str, unsent: set[str]
) -> int:
    """How many of the numbers never sent the campaign lists as UNKNOWN or FAILED."""
    listed = 0
    for status in ("UNKNOWN", "FAILED"):
        page = 1
        while True:
            r = await client.get(
                f"/campaigns/{campaign_id}?status={status}&limit=100&page={page}", headers=headers
            )
            r.raise_for_status()
            rows = r.json()["data"]["recipients"]
            listed += sum(1 for row in rows if str(row["phone"]).lstrip("+") in unsent)
            if len(rows) < 100:
                break
            page += 1
    return listed


async def run_rate(args: argparse.Namespace, graph: FakeGraph, rate: int) -> list[str]:
    with graph._lock:  # noqa: SLF001 - each run counts only its own sends (the numbers repeat)
        graph.state.sent.clear()
    with tempfile.TemporaryDirectory() as tmp:
        async with backend(args.postgres, args.redis_url, Path(tmp)) as store:
            fleet = Fleet(store, graph.url, Path(tmp), workers=args.workers, worker_nice=args.worker_nice)
            fleet.env["CXINBOX_WHATSAPP_SEND_RATE_PER_SECOND"] = str(rate)
            fleet.env["CXINBOX_WHATSAPP_SEND_OUTCOME_WINDOW_SECONDS"] = str(args.outcome_window)
            # migrated first: on a busy machine the server's own migration may outlast its start timeout
            await asyncio.to_thread(upgrade, store.database_url)
            try:
                await fleet.start_all()
                async with httpx.AsyncClient(base_url=fleet.url, timeout=300.0) as client:
                    setting = await setup(client, graph, store.database_url)
                    headers, template_id, number = setting
                    idle, idle_cpu = await idle_acks(fleet, client, number, args.ack_seconds)
                    campaign_id, created = await create(
                        client, headers, template_id, numbers(args.recipients, 10_000_000)
                    )
                    (measured, cpu_per_send, net_cpu, waited), busy = await asyncio.gather(
                        measure_rate(fleet, graph, args.seconds, idle_cpu),
                        ack_times(client, number, WARMUP_SECONDS + args.seconds),
                    )
                    cancel = {"action": "cancel", "selection": {"mode": "ids", "ids": [campaign_id]}}
                    (await client.post("/campaigns/bulk", json=cancel, headers=headers)).raise_for_status()
                    await asyncio.sleep(3.0)  # the cancelled campaign's batch in flight drains
                    duplicates, unsent, reported, unknown, settle = await crash_run(
                        fleet, client, graph, setting, args.crash_recipients
                    )
            finally:
                fleet.stop()
                if args.keep_logs:
                    for name in fleet.names:
                        print(fleet.tail(name, 6000))
    label = store.label if args.workers == 1 else f"{store.label} x{args.workers}"
    if args.worker_nice:
        label += f" at nice {args.worker_nice}"
    return [
        label,
        f"{rate}/s",
        f"{created:.2f} s",
        f"{measured:.1f}/s ({measured / rate - 1:+.1%})",
        f"{cpu_per_send:.2f} ms ({net_cpu:.2f} net)",
        f"{waited:.2f} s/s",
        f"{p99(idle):.0f} / {p99(busy):.0f} ms ({p99(busy) / max(p99(idle), 0.001):.2f}x)",
        f"{duplicates} / {unsent - reported} of {args.crash_recipients:,}",
        f"{unknown} ({unsent} not sent)",
        f"{settle:.0f} s",
        load_average(),
    ]


async def main() -> None:
    args = parse_args()
    graph = FakeGraph()
    graph.start()
    rows = []
    try:
        for rate in (int(r) for r in args.rates.split(",")):
            rows.append(await run_rate(args, graph, rate))
            print(" | ".join(rows[-1]), flush=True)
    finally:
        graph.stop()
    header = [
        "backend",
        "governor",
        f"create {args.recipients:,}",
        f"sends over {args.seconds:.0f} s",
        "server CPU per send (net of the webhooks)",
        "server waiting for a core",
        "webhook ack p99 idle / dispatch",
        "kill -9: duplicates / silent skips",
        "reported UNKNOWN",
        "restart to done",
        "load avg 1/5/15 min",
    ]
    print(f"load average (1, 5, 15 min): {load_average()}; {machine()}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    asyncio.run(main())
