"""The bot's turn: its own overhead per turn, and many slow turns at once.

The app (posted to in process) and its workers run in the bench's process; with ``--workers N``
(PostgreSQL + Redis) the turns run instead in N ``cxinbox worker --queues llm`` processes, as a
deployment runs them, and the bench's process keeps the other queues (webhook processing, the
replies' delivery). The fake LLM (an OpenAI-format server on 127.0.0.1, ``tests.fakes.llm``) and the
fake Graph API the replies are delivered to (``tests.fakes.graph``) run in a process of their own:
they are not the system under test, and in the bench's process they took its CPU. Each organization
has the bot on with an active config on the fake (no debounce); each webhook is a text from a new
customer, so each opens a conversation the bot answers.

1. Overhead (the model answers at once): ``--turns`` turns one after another, each timed from the
   customer's message stored to the bot's reply queued (both rows' ``created_at``), so it holds the
   job's pickup, the turn's reads and writes and the loopback call to the fake; then ``--turns``
   webhooks at once and the turns finished per second.
2. Slow model (``--latency`` seconds per answer): one turn alone, then ``--conversations`` customers
   writing at once: the time until every reply is queued against the one turn's, and the webhooks'
   acknowledgement p99 (each from the burst's start) with the bot on against the same burst to an
   organization whose bot is off; and the CPU time the system under test spent per customer message
   answered in that burst (the bench's process and the worker processes, not the fakes'), and the
   statements and transactions their engines ran per message answered (``bench.engine_counts``).

    .venv/bin/python -m bench.bot_turns [--turns 200] [--conversations 500] [--latency 2]
        [--database-url postgresql+asyncpg://… --redis-url redis://… [--workers 2 [--worker-nice 10]]]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from tests.fakes.llm import Reply

from bench.engine_counts import COUNTS_DIR, count_all, counts, worker_counts
from bench.machine import load_average, machine
from bench.webhook_ingest import APP_SECRET, WEBHOOK_PATH, webhook
from cxinbox.app import create_app
from cxinbox.config import Settings
from cxinbox.core.jobs import ALL_QUEUES, Queue
from cxinbox.core.logging import configure_logging
from cxinbox.migrations import upgrade
from cxinbox.models.bot import BotConfig
from cxinbox.models.identity import Organization, Plan
from cxinbox.models.inbox import Message, SenderType
from cxinbox.models.organization_settings import OrganizationSettings
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.signature import sign

#: each webhook's customer: a new one every time, so each opens a conversation
CUSTOMERS = itertools.count(10**6)
TOKEN = "bench-graph-token"


@dataclass
class Org:
    id: str
    number: str


class Fakes:
    """The fake LLM and the fake Graph API in a child process, set up through a pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of this process's loop and engines
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve_fakes, args=(child,), daemon=True)
        self._process.start()
        self.llm_url, self.graph_url = self._pipe.recv()

    def script(self, key: str, *replies: Reply) -> None:
        """``FakeLlm.script``: the key is valid and its next calls get ``replies``."""
        self._call("script", key, *replies)

    def add_number(self, number: str, token: str) -> None:
        """``FakeGraph.add_number``: the number takes sends with ``token``."""
        self._call("add_number", number, token)

    def stop(self) -> None:
        self._call("stop")
        self._process.join(timeout=10)

    def _call(self, command: str, *args: Any) -> None:
        self._pipe.send((command, args))
        self._pipe.recv()


def _serve_fakes(pipe: Connection) -> None:
    from tests.fakes.graph import FakeGraph
    from tests.fakes.llm import FakeLlm

    llm, graph = FakeLlm(), FakeGraph()
    llm.start()
    graph.start()
    # what the process built so far out of the collector's sight: otherwise a full collection of it
    # (about one per 200 turns, hundreds of ms on a busy machine) held up the model's answer of the
    # turn that was waiting for it
    gc.freeze()
    pipe.send((llm.url, graph.url))
    commands: dict[str, Callable[..., None]] = {"script": llm.script, "add_number": graph.add_number}
    while True:
        command, args = pipe.recv()
        if command == "stop":
            break
        commands[command](*args)
        pipe.send(None)
    llm.stop()
    graph.stop()
    pipe.send(None)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL instead of a temporary SQLite file")
    parser.add_argument("--redis-url", help="Redis for the job queue and events")
    parser.add_argument("--turns", type=int, default=200, help="turns timed with an instant model")
    parser.add_argument("--conversations", type=int, default=500, help="customers writing at once")
    parser.add_argument("--latency", type=float, default=2.0, help="seconds the slow model takes")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="with --redis-url: run the turns in this many `cxinbox worker --queues llm` processes",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="start the worker processes with this niceness (10: the turns yield the CPU to the "
        "webhooks' acknowledgements when both want it, as on a machine they share)",
    )
    args = parser.parse_args()
    if args.workers and not (args.redis_url and args.database_url):
        parser.error("--workers needs --database-url and --redis-url (the processes share them)")
    return args


async def seed(runtime: Runtime, fakes: Fakes, *, bot: bool, replies: list[Reply]) -> Org:
    number = str(random.randrange(10**14, 10**15))
    key = f"sk-bench-{uuid.uuid4().hex}"
    fakes.script(key, *replies)
    fakes.add_number(number, TOKEN)
    async with runtime.unit_of_work() as session:
        org = Organization(name="Bot bench", slug=f"bench-bot-{uuid.uuid4().hex[:8]}", plan=Plan.ENTERPRISE)
        session.add(org)
        await session.flush()
        settings = OrganizationSettings.with_defaults(org.id)
        settings.bot_enabled = bot
        session.add_all(
            [
                WhatsAppAccount(
                    organization_id=org.id,
                    waba_id=number,
                    phone_number_id=number,
                    display_phone_number="15550100",
                    access_token_encrypted=runtime.secrets.encrypt(TOKEN),
                ),
                settings,
                BotConfig(
                    organization_id=org.id,
                    name="Bench",
                    provider="OPENAI",
                    model="gpt-4o-mini",
                    api_key_encrypted=runtime.secrets.encrypt(key),
                    base_url=f"{fakes.llm_url}/openai/v1",
                    system_prompt="You answer a shop's customers briefly.",
                    is_active=True,
                    debounce_seconds=0,
                ),
            ]
        )
        return Org(org.id, number)


async def counted(runtime: Runtime, org: Org, sender: SenderType) -> int:
    async with runtime.read_session() as session:
        stmt = select(func.count()).where(Message.organization_id == org.id, Message.sender_type == sender)
        return int(await session.scalar(stmt) or 0)


#: how often the bench looks for the rows it waits for: its queries run in the app's event loop, so
#: looking every 10 ms took a tenth of the CPU the turns it measures needed (the per-turn figures
#: come from the rows' timestamps, not from when the bench saw them); during a burst, whose figure
#: is the time it saw the last reply, every 0.2 s (a few percent of the burst's CPU at 0.05 s)
POLL_SECONDS = 0.05
BURST_POLL_SECONDS = 0.2


async def until(
    runtime: Runtime, org: Org, sender: SenderType, count: int, poll: float = POLL_SECONDS
) -> None:
    deadline = time.monotonic() + 600
    while await counted(runtime, org, sender) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} {sender.value} messages not stored in 600 s")
        await asyncio.sleep(poll)


async def delivered(runtime: Runtime, org: Org) -> None:
    """Wait until none of ``org``'s replies waits to be sent (the governor paces a number's sends,
    so a burst's deliveries outlast its turns)."""
    waiting = select(func.count()).where(
        OutboxEntry.organization_id == org.id,
        OutboxEntry.state.in_((OutboxState.QUEUED, OutboxState.SENDING)),
    )
    deadline = time.monotonic() + 600
    while True:
        async with runtime.read_session() as session:
            if not await session.scalar(waiting):
                return
        if time.monotonic() > deadline:
            raise TimeoutError("replies still waiting to be sent after 600 s")
        await asyncio.sleep(POLL_SECONDS)


async def post(client: httpx.AsyncClient, org: Org, started: float) -> float:
    """A customer's webhook; its acknowledgement in milliseconds from ``started``."""
    body = webhook(org.number, next(CUSTOMERS), "hola, ¿tienen envíos a Monterrey?")
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)}
    answer = await client.post(WEBHOOK_PATH, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return (time.perf_counter() - started) * 1000


async def turn_overheads(runtime: Runtime, org: Org) -> list[float]:
    """Each turn's reply queued minus its customer message stored, in milliseconds, in the order the
    customers wrote (the caller drops the warm-up's first turns: the rows come in no set order, and
    on PostgreSQL with ``--workers`` the warm-up's waited for the workers to start, seconds)."""
    async with runtime.read_session() as session:
        rows = (
            await session.execute(
                select(Message.conversation_id, Message.sender_type, Message.created_at).where(
                    Message.organization_id == org.id
                )
            )
        ).all()
    stored = {c: t for c, s, t in rows if s is SenderType.CUSTOMER}
    replies = sorted((stored[c], t) for c, s, t in rows if s is SenderType.BOT)
    return [(replied - wrote).total_seconds() * 1000 for wrote, replied in replies]


async def burst(
    client: httpx.AsyncClient, runtime: Runtime, org: Org, count: int, *, replies: bool
) -> tuple[list[float], float]:
    """``count`` webhooks at once: their acknowledgements (ms) and the seconds until all are stored
    (and, with ``replies``, answered)."""
    started = time.perf_counter()
    acks = await asyncio.gather(*(post(client, org, started) for _ in range(count)))
    poll = POLL_SECONDS if count == 1 else BURST_POLL_SECONDS
    await until(runtime, org, SenderType.CUSTOMER, count, poll)
    if replies:
        await until(runtime, org, SenderType.BOT, count, poll)
    return list(acks), time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def settings_for(data_dir: Path, args: argparse.Namespace, fakes: Fakes) -> Settings:
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=args.database_url or f"sqlite+aiosqlite:///{data_dir}/bench.db",
        redis_url=args.redis_url,
        redis_prefix=f"bench-bot-{uuid.uuid4().hex[:8]}",  # no job left by an earlier run
        secret_key="bench-secret-key",
        meta_app_secret=APP_SECRET,
        meta_graph_url=fakes.graph_url,
        allow_private_urls=True,
        rate_limits="off",
        log_level="WARNING",
    )


def start_workers(settings: Settings, count: int, nice: int = 0) -> list[subprocess.Popen[bytes]]:
    """``count`` processes of ``cxinbox worker --queues llm`` sharing the bench's database and queue,
    at niceness ``nice``."""
    env = {
        **os.environ,
        "CXINBOX_ENV": "test",
        "CXINBOX_DATABASE_URL": settings.database_url,
        "CXINBOX_REDIS_URL": settings.redis_url or "",
        "CXINBOX_REDIS_PREFIX": settings.redis_prefix,
        "CXINBOX_SECRET_KEY": "bench-secret-key",
        "CXINBOX_DATA_DIR": str(settings.data_dir),
        "CXINBOX_ALLOW_PRIVATE_URLS": "true",
        "CXINBOX_LOG_LEVEL": "WARNING",
        COUNTS_DIR: str(settings.data_dir),
    }
    command = [
        "nice",
        "-n",
        str(nice),
        sys.executable,
        "-m",
        "bench.engine_counts",  # the cxinbox CLI, counting its statements and transactions
        "worker",
        "--queues",
        Queue.LLM.value,
    ]
    return [subprocess.Popen(command, env=env) for _ in range(count)]


def statement_counts(workers: list[subprocess.Popen[bytes]], data_dir: Path) -> dict[str, int]:
    """Statements and transactions so far of this process's engines and the worker processes'."""
    found = counts()
    for name, value in worker_counts(workers, data_dir).items():
        found[name] += value
    return found


def cpu_seconds(workers: list[subprocess.Popen[bytes]]) -> float:
    """CPU time (user + system) of this process and the worker processes so far: the system under
    test's (the fakes' process is not counted). Unlike a duration it hardly moves with the load."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = time.process_time()
    for process in workers:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


async def run(args: argparse.Namespace, data_dir: Path) -> list[tuple[str, str, str]]:
    fakes = Fakes()
    settings = settings_for(data_dir, args, fakes)
    await asyncio.to_thread(upgrade, settings.database_url)
    runtime = Runtime(settings)
    workers = start_workers(settings, args.workers, args.worker_nice)
    await runtime.start(workers=True, queues=[q for q in ALL_QUEUES if not workers or q is not Queue.LLM])
    app = create_app(runtime=runtime)
    app.state.runtime = runtime  # what the lifespan sets; the in-process transport runs none
    gc.freeze()  # as `cxinbox serve` and `cxinbox worker` do once started (``cli``)
    rows: list[tuple[str, str, str]] = []
    slow = [Reply("Sí, enviamos a todo México.", delay=args.latency)] * (args.conversations + 1)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            instant = await seed(runtime, fakes, bot=True, replies=[])
            for _ in range(10):  # warm-up: connections, caches; not reported
                await post(client, instant, time.perf_counter())
            await until(runtime, instant, SenderType.BOT, 10)
            for n in range(11, args.turns + 11):
                await post(client, instant, time.perf_counter())
                await until(runtime, instant, SenderType.BOT, n)
            overheads = (await turn_overheads(runtime, instant))[10:]
            rows.append(
                (
                    "overhead per turn p50 / p99 ms",
                    f"{statistics.median(overheads):.1f} / {percentile(overheads, 0.99):.1f}",
                    f"{len(overheads)} turns one at a time, model answers at once; aim p99 < 30",
                )
            )
            alone = []  # one turn at a time, each in an organization of its own (median of 3)
            for _ in range(3):
                org = await seed(runtime, fakes, bot=True, replies=slow[:1])
                alone.append((await burst(client, runtime, org, 1, replies=True))[1])
            one = statistics.median(alone)
            rapid = await seed(runtime, fakes, bot=True, replies=[])
            _, took = await burst(client, runtime, rapid, args.turns, replies=True)
            await delivered(runtime, rapid)  # its replies' deliveries are not the next burst's work
            rows.append(("turns/s", f"{args.turns / took:.0f}", f"{args.turns} customers writing at once"))

            off = await seed(runtime, fakes, bot=False, replies=[])
            acks_off, stored = await burst(client, runtime, off, args.conversations, replies=False)
            many = await seed(runtime, fakes, bot=True, replies=slow)
            cpu, ran = cpu_seconds(workers), statement_counts(workers, data_dir)
            acks_on, total = await burst(client, runtime, many, args.conversations, replies=True)
            cpu = cpu_seconds(workers) - cpu
            ran = {name: value - ran[name] for name, value in statement_counts(workers, data_dir).items()}
            rows.append(
                ("one turn alone s", f"{one:.2f}", f"median of 3; model answers after {args.latency:g} s")
            )
            rows.append(
                (
                    f"{args.conversations} at once, bot off: all stored s",
                    f"{stored:.2f}",
                    "the same burst's processing alone (no turn): the floor of the next figure",
                )
            )
            rows.append(
                (
                    f"{args.conversations} at once: all replied s",
                    f"{total:.2f} ({total / one:.2f}x)",
                    "aim < 3x one turn",
                )
            )
            rows.append(
                (
                    "CPU per message answered ms",
                    f"{cpu / args.conversations * 1000:.0f}",
                    "the burst above: the bench's process"
                    + (f" and the {args.workers} worker processes" if workers else "")
                    + (f" at nice {args.worker_nice}" if workers and args.worker_nice else "")
                    + " (the fakes' process not counted)",
                )
            )
            rows.append(
                (
                    "statements / transactions per message answered",
                    f"{ran['statements'] / args.conversations:.1f} / "
                    f"{ran['transactions'] / args.conversations:.1f}",
                    "the burst above, every engine of the same processes: the webhook's processing, "
                    "the turn, the reply's delivery and the bench's polling",
                )
            )
            p99_off, p99_on = percentile(acks_off, 0.99), percentile(acks_on, 0.99)
            rows.append(
                (
                    "webhook ack p99 ms: bot off / on",
                    f"{p99_off:.0f} / {p99_on:.0f} ({p99_on / p99_off:.2f}x)",
                    f"{args.conversations} webhooks at once, from the burst's start; aim ≤ 1.2x",
                )
            )
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=15)
        await runtime.stop()
        fakes.stop()
    return rows


def table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| figure | value | notes |", "|---|---:|---|"]
    lines += [f"| {label} | {value} | {note} |" for label, value, note in rows]
    return "\n".join(lines)


async def main() -> None:
    args = parse_args()
    configure_logging("WARNING")
    count_all()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cxinbox-bench-bot-") as tmp:
        rows = await run(args, Path(tmp))
    print(table(rows))
    print(f"{machine()}; load average (1, 5, 15 min) before {load_average(load)}; after {load_average()}")


if __name__ == "__main__":
    asyncio.run(main())
