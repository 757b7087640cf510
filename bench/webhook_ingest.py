"""Webhook ingest benchmark: how many signed WhatsApp webhook POSTs a server acknowledges per
second, how fast it acknowledges them, and how fast it fully processes them (messages stored).

It starts ``cxinbox serve`` on 127.0.0.1 (or targets one already running on loopback), connects a
WhatsApp account directly in the database, then sends one text message per POST at increasing
rates, each step bounded in count and time. The same server's ``/health`` rate is the ceiling.

    .venv/bin/python -m bench.webhook_ingest                                   # SQLite, in-process
    .venv/bin/python -m bench.webhook_ingest \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1/cxinbox_bench \\
        --redis-url redis://127.0.0.1:6379/0                                    # PostgreSQL + Redis
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.loadgen import Results, build_request, closed_loop, connect, open_loop
from bench.machine import cpu_seconds
from cxinbox.config import Settings
from cxinbox.core.db import create_engine, create_sessionmaker, unit_of_work
from cxinbox.migrations import upgrade
from cxinbox.models.identity import Organization
from cxinbox.models.inbox import (
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    MessageStatusEvent,
    MessageType,
    SenderType,
)
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.whatsapp.signature import sign

APP_SECRET = "bench-app-secret"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
WEBHOOK_PATH = "/api/v1/webhooks/whatsapp"
HEALTH_PATH = "/api/v1/health"
CUSTOMERS = 500


@dataclass
class Step:
    rate: int
    acked: Results
    processed_rate: float
    processed: int
    sent: int


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.webhook_ingest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--database-url", help="server database (default: a new SQLite file)")
    parser.add_argument("--redis-url", help="give the server Redis (jobs, events, limits)")
    parser.add_argument(
        "--target",
        help="a running server on loopback, e.g. http://127.0.0.1:8000 "
        "(needs --database-url and --secret-key of that server, and its META_APP_SECRET "
        f"set to {APP_SECRET!r})",
    )
    parser.add_argument("--secret-key", default=None, help="the server's CXINBOX_SECRET_KEY (with --target)")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="with --redis-url: serve with --no-workers and run this many `cxinbox worker` processes",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="start the worker processes with this niceness (10: processing yields the CPU to "
        "acknowledgements when both want it, as on a machine they share)",
    )
    parser.add_argument(
        "--ack-only",
        action="store_true",
        help="address a number no account has: bodies are stored and acknowledged, processing has "
        "nothing to do (the acknowledgement path alone)",
    )
    parser.add_argument(
        "--statuses",
        action="store_true",
        help="post delivery statuses (sent, delivered, read) of seeded outbound messages instead of "
        "customer messages; processed = statuses folded into their messages",
    )
    parser.add_argument(
        "--without-rollups",
        action="store_true",
        help="switch the analytics rollups' triggers off for the run (PostgreSQL: disabled, then "
        "enabled again; SQLite: only on the run's own new database, where they are dropped): the "
        "ingest cost of keeping them, by comparison with a run without this flag",
    )
    parser.add_argument("--rates", default="250,500,1000,1500,2000", help="messages/s of each step")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each step")
    parser.add_argument(
        "--warmup",
        type=float,
        default=3.0,
        help="seconds of webhooks at the first rate before the steps, not reported (connections, "
        "statement caches and the first customers' contacts and conversations get created)",
    )
    parser.add_argument("--max-messages", type=int, default=10_000, help="upper bound of one step")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive client connections")
    parser.add_argument("--process-timeout", type=float, default=120.0, help="wait for processing, per step")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``cxinbox serve`` in a child process, with its own data directory."""

    def __init__(
        self,
        database_url: str,
        redis_url: str | None,
        secret_key: str,
        data_dir: Path,
        workers: int = 0,
        worker_nice: int = 0,
    ) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "CXINBOX_DATABASE_URL": database_url,
            "CXINBOX_SECRET_KEY": secret_key,
            "CXINBOX_DATA_DIR": str(data_dir),
            "CXINBOX_META_APP_SECRET": APP_SECRET,
            "CXINBOX_RATE_LIMITS": "off",
            "CXINBOX_LOG_LEVEL": "WARNING",
            "CXINBOX_REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        }
        env.pop("CXINBOX_REDIS_URL", None)
        if redis_url:
            env["CXINBOX_REDIS_URL"] = redis_url
        self.log = open(data_dir / "server.log", "wb")  # noqa: SIM115
        serve = [sys.executable, "-m", "cxinbox.cli", "serve", "--port", str(self.port)]
        self.processes = [
            subprocess.Popen(
                serve + (["--no-workers"] if workers else []),
                env=env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        ]
        self.processes += [
            subprocess.Popen(
                ["nice", "-n", str(worker_nice), sys.executable, "-m", "cxinbox.cli", "worker"],
                env=env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            for _ in range(workers)
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """The CPU time (user + system) the server's processes used so far."""
        return cpu_seconds(process.pid for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.log.close()


async def wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url + HEALTH_PATH)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"the server at {url} did not become healthy")


async def connect_account(settings: Settings, sessionmaker) -> tuple[str, str]:
    """A new organization with a connected number (written directly: the bench measures webhooks)."""
    from cxinbox.core.crypto import SecretBox

    number = str(secrets.randbelow(9 * 10**14) + 10**14)
    async with unit_of_work(sessionmaker) as session:
        org = Organization(name="Webhook bench", slug=f"bench-{uuid.uuid4().hex[:12]}")
        session.add(org)
        await session.flush()
        session.add(
            WhatsAppAccount(
                organization_id=org.id,
                waba_id=number,
                phone_number_id=number,
                display_phone_number="15550100",
                access_token_encrypted=SecretBox(settings.effective_secret_key).encrypt("bench-token"),
            )
        )
    return org.id, number


def webhook(number: str, customer: int, text: str) -> bytes:
    wa_id = f"1555{customer:08d}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": number},
        "contacts": [{"profile": {"name": f"Customer {customer}"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.bench.{uuid.uuid4().hex}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": number, "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


#: the statuses each sent message gets, in order
STATUS_CYCLE = ("sent", "delivered", "read")


#: wamids are unique on the platform, and a bench database outlives a run
RUN = uuid.uuid4().hex[:12]


def outbound_wamid(index: int) -> str:
    return f"wamid.bench.out.{RUN}.{index}"


def status_webhook(number: str, index: int) -> bytes:
    """The ``index``-th status of the seeded outbound messages (three per message)."""
    message = index // len(STATUS_CYCLE)
    status = {
        "id": outbound_wamid(message),
        "status": STATUS_CYCLE[index % len(STATUS_CYCLE)],
        "timestamp": str(int(time.time())),
        "recipient_id": f"1555{message % CUSTOMERS:08d}",
        "pricing": {"billable": True, "pricing_model": "PMP", "category": "service"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": number},
        "statuses": [status],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": number, "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


async def seed_outbound(sessionmaker, organization_id: str, number: str, count: int) -> None:
    """``count`` sent messages (wamids ``outbound_wamid(0…count-1)``) in one conversation, for
    the statuses workload."""
    async with unit_of_work(sessionmaker) as session:
        account = (
            await session.scalars(select(WhatsAppAccount).where(WhatsAppAccount.phone_number_id == number))
        ).one()
        contact = Contact(organization_id=organization_id, wa_id="15550000000", phone="+15550000000")
        session.add(contact)
        await session.flush()
        conversation = Conversation(
            organization_id=organization_id, contact_id=contact.id, whatsapp_account_id=account.id
        )
        session.add(conversation)
        await session.flush()
        common = {
            "organization_id": organization_id,
            "conversation_id": conversation.id,
            "direction": Direction.OUTBOUND,
            "sender_type": SenderType.AGENT,
            "type": MessageType.TEXT,
            "text": "Your order has shipped",
            "status": MessageStatus.PENDING,
        }
        rows = [{**common, "wa_message_id": outbound_wamid(i)} for i in range(count)]
        for start in range(0, count, 1000):
            await session.execute(insert(Message), rows[start : start + 1000])


def signed_requests(host: str, number: str, count: int, offset: int, statuses: bool) -> list[bytes]:
    requests = []
    for i in range(count):
        if statuses:
            body = status_webhook(number, offset + i)
        else:
            body = webhook(number, (offset + i) % CUSTOMERS, f"Bench message {offset + i}")
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)}
        requests.append(build_request("POST", host, WEBHOOK_PATH, body, headers))
    return requests


async def stored(sessionmaker, organization_id: str, statuses: bool) -> int:
    """Messages stored, or (statuses workload) statuses folded into their messages."""
    if statuses:
        done = select(func.count()).where(
            MessageStatusEvent.organization_id == organization_id, MessageStatusEvent.applied_at.is_not(None)
        )
    else:
        done = select(func.count()).where(Message.organization_id == organization_id)
    async with sessionmaker() as session:
        return int(await session.scalar(done) or 0)


async def run_step(
    url: str, sessionmaker, org_id: str, number: str, rate: int, seconds: float, args, offset: int
) -> Step:
    parts = urlsplit(url)
    count = min(args.max_messages, int(rate * seconds))
    requests = signed_requests(parts.netloc, number, count, offset, args.statuses)
    before = await stored(sessionmaker, org_id, args.statuses)
    connections = await connect(parts.hostname or "127.0.0.1", parts.port or 80, args.connections)
    started = time.perf_counter()
    acked = await open_loop(connections, requests, rate)
    for conn in connections:
        conn.writer.close()
    target, done = before + acked.ok, before
    deadline = time.perf_counter() + (0 if args.ack_only else args.process_timeout)
    while done < target and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        done = await stored(sessionmaker, org_id, args.statuses)
    elapsed = time.perf_counter() - started
    return Step(rate, acked, (done - before) / elapsed, done - before, count)


async def health_ceiling(url: str, connections: int, seconds: float) -> Results:
    parts = urlsplit(url)
    conns = await connect(parts.hostname or "127.0.0.1", parts.port or 80, connections)
    try:
        return await closed_loop(conns, build_request("GET", parts.netloc, HEALTH_PATH), seconds)
    finally:
        for conn in conns:
            conn.writer.close()


def table(label: str, steps: list[Step], health: Results) -> str:
    lines = [
        f"## {label}",
        "",
        "| offered msg/s | sent | acked msg/s | p50 ack ms | p99 ack ms | errors "
        "| processed msg/s | processed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in steps:
        p50, p99 = s.acked.percentile(50) * 1000, s.acked.percentile(99) * 1000
        lines.append(
            f"| {s.rate} | {s.sent} | {s.acked.rate:.0f} | {p50:.1f} | {p99:.1f} | {s.acked.errors} "
            f"| {s.processed_rate:.0f} | {s.processed} |"
        )
    lines += [
        "",
        f"Ceiling: `GET /health` on the same server, closed loop: {health.rate:.0f} req/s "
        f"(p50 {health.percentile(50) * 1000:.1f} ms, p99 {health.percentile(99) * 1000:.1f} ms).",
    ]
    return "\n".join(lines)


ROLLUP_TRIGGERS = "analytics\\_%"


async def database_cpu(engine: AsyncEngine) -> dict[int, float]:
    """PostgreSQL: the CPU seconds each backend connected to the bench's database used so far (the
    rollups' triggers run there, not in the server's processes); SQLite runs in the server's."""
    if engine.dialect.name != "postgresql":
        return {}
    async with engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        pids = [pid for (pid,) in found]
    cpu = {}
    for pid in pids:
        try:
            cpu[pid] = cpu_seconds([pid])
        except FileNotFoundError:  # ended meanwhile
            continue
    return cpu


async def switch_rollups(database_url: str, on: bool) -> None:
    """Enable or disable (PostgreSQL) or drop (SQLite, off only) the triggers of revision 0227."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                found = await conn.exec_driver_sql(
                    "SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                    f"WHERE tgname LIKE '{ROLLUP_TRIGGERS}' AND NOT tgisinternal"
                )
                # SQLAlchemy 2.1 types exec_driver_sql's result as CursorResult[Any], rows of one column
                for name, table in found.all():  # type: ignore[misc]
                    await conn.exec_driver_sql(
                        f"ALTER TABLE {table} {'ENABLE' if on else 'DISABLE'} TRIGGER {name}"
                    )
            elif not on:
                found = await conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    f"AND name LIKE '{ROLLUP_TRIGGERS}' ESCAPE '\\'"
                )
                for (name,) in found.all():
                    await conn.exec_driver_sql(f"DROP TRIGGER {name}")
    finally:
        await engine.dispose()


async def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="cxinbox-bench-") as tmp:
        data_dir = Path(tmp)
        database_url = args.database_url or f"sqlite+aiosqlite:///{data_dir}/bench.db"
        secret_key = args.secret_key or secrets.token_urlsafe(32)
        server = None
        if args.target:
            if urlsplit(args.target).hostname not in LOOPBACK:
                raise SystemExit("the benchmark only targets servers on loopback")
            if not (args.database_url and args.secret_key):
                raise SystemExit("--target needs the server's --database-url and --secret-key")
            url = args.target.rstrip("/")
        else:
            await asyncio.to_thread(upgrade, database_url)
            if args.without_rollups:
                if args.database_url and not args.database_url.startswith("postgresql"):
                    raise SystemExit(
                        "--without-rollups on SQLite drops the triggers: only on the run's own database"
                    )
                await switch_rollups(database_url, on=False)
            if args.workers and not args.redis_url:
                raise SystemExit("--workers needs --redis-url (the processes share the job queue)")
            server = Server(
                database_url, args.redis_url, secret_key, data_dir, args.workers, args.worker_nice
            )
            url = server.url
        try:
            await wait_healthy(url)
            settings = Settings(database_url=database_url, secret_key=secret_key, data_dir=data_dir)
            engine = create_engine(database_url)
            sessionmaker = create_sessionmaker(engine)
            org_id, number = await connect_account(settings, sessionmaker)
            if args.ack_only:
                number = "1" + number  # not connected: nothing will be processed into messages
            rates = [int(r) for r in args.rates.split(",")]
            if args.statuses:
                steps_planned = [(rates[0], args.warmup)] + [(r, args.seconds) for r in rates]
                total = sum(min(args.max_messages, int(r * t)) for r, t in steps_planned)
                await seed_outbound(sessionmaker, org_id, number, total // len(STATUS_CYCLE) + 1)
            offset = 0
            if args.warmup > 0:
                warmup = await run_step(url, sessionmaker, org_id, number, rates[0], args.warmup, args, 0)
                offset = warmup.sent
            steps = []
            cpu_before = server.cpu_seconds() if server else 0.0
            database_before = await database_cpu(engine)
            for rate in rates:
                step = await run_step(url, sessionmaker, org_id, number, rate, args.seconds, args, offset)
                offset += step.sent
                steps.append(step)
                p50, p99 = step.acked.percentile(50) * 1000, step.acked.percentile(99) * 1000
                print(
                    f"{rate:>6} msg/s offered: acked {step.acked.rate:.0f}/s "
                    f"p50 {p50:.1f} ms p99 {p99:.1f} ms, errors {step.acked.errors}, "
                    f"processed {step.processed_rate:.0f}/s",
                    flush=True,
                )
            if server is not None:
                processed = sum(step.sent for step in steps)
                cpu = server.cpu_seconds() - cpu_before
                print(
                    f"server CPU {cpu:.1f} s for {processed} messages: {cpu / processed * 1000:.3f} ms each"
                )
                database_after = await database_cpu(engine)
                if database_after:
                    used = sum(t - database_before.get(pid, 0.0) for pid, t in database_after.items())
                    print(
                        f"database CPU {used:.1f} s ({len(database_after)} backends alive at the end): "
                        f"{used / processed * 1000:.3f} ms each; server + database "
                        f"{(cpu + used) / processed * 1000:.3f} ms each"
                    )
            health = await health_ceiling(url, min(args.connections, 32), args.seconds)
            backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
            processes = f"API process + {args.workers} worker process(es)" if args.workers else "one process"
            if args.workers and args.worker_nice:
                processes += f" at nice {args.worker_nice}"
            workload = "statuses" if args.statuses else "messages"
            workload += ", rollups off" if args.without_rollups else ""
            redis = " + Redis" if args.redis_url else ""
            label = f"{backend}{redis}, {processes}, {os.cpu_count()} cores, {workload}"
            print()
            print(table(label, steps, health))
            await engine.dispose()
        finally:
            if server is not None:
                server.stop()
            if args.without_rollups and database_url.startswith("postgresql"):
                await switch_rollups(database_url, on=True)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
