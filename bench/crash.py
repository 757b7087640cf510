"""Crash sweep: ``kill -9`` of the serving and working processes while signed WhatsApp webhooks
stream in with Meta-style redeliveries; afterwards every acknowledged message must be stored once,
in Meta's order.

It starts real processes: ``cxinbox serve`` (one process on SQLite; ``serve --no-workers`` plus
``cxinbox worker`` with Redis) against a fake Graph API, registers an organization and connects a
number through the API, then streams bodies of 1–3 messages of a few customers, each message with
a later Meta timestamp than the one before. Like Meta it re-sends a sample of bodies it already
sent, gives up waiting for some answers (and sends those bodies again), retries every body that did
not get a 200 (connection refused while a process is down included) and slows down while its
backlog of failed bodies is large. Meanwhile the processes are killed with SIGKILL at random moments
and started again. At the end it waits until every stored body is processed and checks, through the
database and the API, that each acknowledged message is stored exactly once and that each
customer's conversation lists the messages in the order they were sent.

    .venv/bin/python -m bench.crash --count 10000                              # SQLite, one process
    .venv/bin/python -m bench.crash --count 10000 \\
        --postgres postgresql+asyncpg://postgres@127.0.0.1/postgres \\
        --redis-url redis://127.0.0.1:6379/0                                   # PostgreSQL + Redis

With ``--postgres`` the run creates a database of its own on that server and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from tests.fakes.graph import FakeGraph
from tests.fixtures.databases import fresh_postgres_database
from tests.fixtures.net import free_port

from cxinbox.models.inbox import Contact, Conversation, Direction, Message
from cxinbox.models.whatsapp import WebhookEvent

API = "/api/v1"
APP_SECRET = "crash-app-secret"
HEALTH_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class CrashConfig:
    count: int = 10_000
    contacts: int = 5
    kills: int = 6
    #: bodies per second offered (each carries 1–3 messages)
    rate: float = 300.0
    concurrency: int = 16
    #: per fresh body, the chance that a random body sent before is sent again too
    redeliver_share: float = 0.1
    #: the share of posts whose answer the sender stops waiting for (the body is sent again later)
    abandon_share: float = 0.02
    #: fresh bodies wait while this many bodies await a retry (Meta slows down on failures)
    max_backlog: int = 32
    #: how long the sender keeps retrying unacknowledged bodies once the stream is over
    retry_seconds: float = 120.0
    #: kill every process once more after the last acknowledgement (no webhook follows the restart)
    final_kill: bool = True
    #: how long processing may take to settle after the last acknowledgement (or that restart)
    settle_seconds: float = 180.0
    seed: int = 0


# --- the database the processes share ---------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    database_url: str
    redis_url: str | None
    redis_prefix: str

    @property
    def label(self) -> str:
        database = "PostgreSQL" if self.database_url.startswith("postgresql") else "SQLite"
        return database + (" + Redis, API process + worker process" if self.redis_url else ", one process")


@contextlib.asynccontextmanager
async def backend(postgres_url: str | None, redis_url: str | None, tmp: Path) -> AsyncIterator[Backend]:
    """A SQLite file in ``tmp``, or a new database on the server of ``postgres_url`` (so a shared
    database is never touched), with a Redis key prefix of its own; all removed afterwards."""
    prefix = f"cxinbox-crash-{uuid.uuid4().hex[:8]}"
    try:
        if postgres_url:
            async with fresh_postgres_database(postgres_url, "cxinbox_crash") as database_url:
                yield Backend(database_url, redis_url, prefix)
        else:
            yield Backend(f"sqlite+aiosqlite:///{tmp / 'crash.db'}", redis_url, prefix)
    finally:
        if redis_url:
            await _forget_redis_keys(redis_url, prefix)


async def _forget_redis_keys(redis_url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


# --- the processes -----------------------------------------------------------------------------


class Fleet:
    """``cxinbox serve`` (and ``cxinbox worker`` with Redis) as child processes on one port, each
    killed with SIGKILL and started again on demand. Their output goes to ``data_dir/*.log``."""

    SERVER, WORKER = "server", "worker"

    def __init__(
        self, backend: Backend, graph_url: str, data_dir: Path, *, workers: int = 1, worker_nice: int = 0
    ) -> None:
        """``workers`` worker processes with Redis (named ``worker``, ``worker-2``, …), started at
        niceness ``worker_nice``."""
        self.backend = backend
        self.workers = workers
        self.worker_nice = worker_nice
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CXINBOX_")} | {
            "CXINBOX_ENV": "test",
            "CXINBOX_DATABASE_URL": backend.database_url,
            "CXINBOX_SECRET_KEY": secrets.token_urlsafe(32),
            "CXINBOX_DATA_DIR": str(data_dir),
            "CXINBOX_META_APP_SECRET": APP_SECRET,
            "CXINBOX_META_GRAPH_URL": graph_url,
            # the fake Graph API listens on 127.0.0.1, which the outbound guard refuses unless told
            "CXINBOX_ALLOW_PRIVATE_URLS": "true",
            "CXINBOX_RATE_LIMITS": "off",
            "CXINBOX_LOG_LEVEL": "WARNING",
            "CXINBOX_ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600),
            "CXINBOX_REDIS_PREFIX": backend.redis_prefix,
        }
        if backend.redis_url:
            self.env["CXINBOX_REDIS_URL"] = backend.redis_url
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def names(self) -> list[str]:
        if not self.backend.redis_url:
            return [self.SERVER]
        return [self.SERVER, self.WORKER] + [f"{self.WORKER}-{n}" for n in range(2, self.workers + 1)]

    def _spawn(self, name: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "cxinbox.cli"]
        if name == self.SERVER:
            command += ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
            if self.backend.redis_url:
                command.append("--no-workers")
        else:
            command.append("worker")
            if self.worker_nice:
                command = ["nice", "-n", str(self.worker_nice), *command]
        with open(self.data_dir / f"{name}.log", "ab") as log:
            process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    async def start(self, name: str) -> None:
        """Start ``name`` and wait until it is ready: the server answers ``/health``, the worker
        has said it runs."""
        log = self.data_dir / f"{name}.log"
        offset = log.stat().st_size if log.exists() else 0
        process = self._spawn(name)
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}: {self.tail(name)}")
                if name == self.SERVER:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(self.url + "/health")).status_code == 200:
                            return
                elif b"worker running" in log.read_bytes()[offset:]:
                    return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{name} did not become ready: {self.tail(name)}")

    async def start_all(self) -> None:
        """Start every process at once (the worker touches the database only once jobs come, after
        the server has migrated it and answers)."""
        await asyncio.gather(*(self.start(name) for name in self.names))

    def kill(self, name: str) -> None:
        process = self.processes[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def tail(self, name: str, size: int = 2000) -> str:
        return (self.data_dir / f"{name}.log").read_bytes()[-size:].decode(errors="replace")


# --- an organization and a number --------------------------------------------------------------


async def register_organization(client: httpx.AsyncClient) -> dict[str, str]:
    """A new organization through ``/auth/register``; answers its admin's auth headers."""
    body = {
        "companyName": "Crash sweep",
        "name": "Admin",
        "email": f"crash-{uuid.uuid4().hex[:12]}@example.com",
        "password": secrets.token_urlsafe(16),
    }
    r = await client.post("/auth/register", json=body)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['data']['accessToken']}"}


async def connect_number(client: httpx.AsyncClient, headers: dict[str, str], graph: FakeGraph) -> str:
    """Connect a number the fake Graph API knows, through ``connect-manual`` (which asks Meta
    about the number with the token given); answers its phone number id."""
    number = str(10**14 + secrets.randbelow(9 * 10**14))
    token = f"crash-token-{uuid.uuid4().hex}"
    graph.add_number(number, token, display="+1 555 0100")
    body = {
        "wabaId": str(10**14 + secrets.randbelow(9 * 10**14)),
        "phoneNumberId": number,
        "accessToken": token,
    }
    r = await client.post("/whatsapp-accounts/connect-manual", json=body, headers=headers)
    r.raise_for_status()
    return number


# --- what is sent ------------------------------------------------------------------------------


@dataclass
class Body:
    raw: bytes
    signature: str
    wamids: list[str]
    posts: int = 0
    acked: bool = False
    #: failed posts in a row (the retry backoff)
    failures: int = 0


def wa_id(contact: int) -> str:
    return f"1555{contact:08d}"


def build_bodies(number: str, config: CrashConfig, rng: random.Random) -> tuple[list[Body], dict[str, int]]:
    """The stream: bodies of 1–3 consecutive messages of one customer, Meta timestamps one second
    apart in sending order. Answers the bodies and each wamid's position in the stream."""
    run = uuid.uuid4().hex[:12]
    first_timestamp = int(time.time()) - config.count - 60
    bodies: list[Body] = []
    order: dict[str, int] = {}
    index = 0
    while index < config.count:
        contact = rng.randrange(config.contacts)
        messages: list[dict[str, Any]] = []
        for _ in range(min(rng.randint(1, 3), config.count - index)):
            wamid = f"wamid.crash.{run}.{index}"
            order[wamid] = index
            messages.append(
                {
                    "from": wa_id(contact),
                    "id": wamid,
                    "timestamp": str(first_timestamp + index),
                    "type": "text",
                    "text": {"body": f"Crash sweep message {index}"},
                }
            )
            index += 1
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100", "phone_number_id": number},
            "contacts": [{"profile": {"name": f"Customer {contact}"}, "wa_id": wa_id(contact)}],
            "messages": messages,
        }
        entry = {"id": number, "changes": [{"value": value, "field": "messages"}]}
        raw = json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        bodies.append(Body(raw, signature, [m["id"] for m in messages]))
    return bodies, order


@dataclass
class SendStats:
    posts: int = 0
    redelivered: int = 0
    retried: int = 0
    abandoned: int = 0
    refused: int = 0
    not_ok: Counter[int] = field(default_factory=Counter)


class Sender:
    """Meta's side of the webhook: posts bodies, records which were answered 200, retries the
    others with backoff, re-sends a sample of those already sent."""

    def __init__(self, url: str, bodies: list[Body], config: CrashConfig, rng: random.Random) -> None:
        self.url = url + "/webhooks/whatsapp"
        self.bodies = bodies
        self.config = config
        self.rng = rng
        self.stats = SendStats()
        self.queue: asyncio.Queue[Body] = asyncio.Queue(maxsize=config.concurrency * 2)
        self.backlog: set[int] = set()  # bodies (by id) awaiting a retry
        self.sent_fresh = 0
        #: fresh bodies are not sent past this one (see ``kill_during``)
        self.gate: int | None = None
        self._timers: set[asyncio.Task[None]] = set()

    @property
    def acked_messages(self) -> set[str]:
        return {w for body in self.bodies if body.acked for w in body.wamids}

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=self.config.concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
            posters = [asyncio.create_task(self._poster(client)) for _ in range(self.config.concurrency)]
            try:
                await self._offer_fresh()
                deadline = time.monotonic() + self.config.retry_seconds
                # done when nothing is queued or in flight (a post in flight may still fail) and
                # no body awaits a retry
                while time.monotonic() < deadline:
                    await self.queue.join()
                    if not self.backlog:
                        break
                    await asyncio.sleep(0.05)
                await self._cancel(list(self._timers))  # past the deadline: Meta gives up too
                await self.queue.join()
            finally:
                await self._cancel([*posters, *self._timers])

    @staticmethod
    async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _offer_fresh(self) -> None:
        interval = 1.0 / self.config.rate
        next_at = time.monotonic()
        for body in self.bodies:
            while len(self.backlog) >= self.config.max_backlog or (
                self.gate is not None and self.sent_fresh >= self.gate
            ):
                await asyncio.sleep(0.01)
                next_at = time.monotonic()
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await self.queue.put(body)
            self.sent_fresh += 1
            if self.rng.random() < self.config.redeliver_share:
                await self.queue.put(self.bodies[self.rng.randrange(self.sent_fresh)])

    async def _poster(self, client: httpx.AsyncClient) -> None:
        while True:
            body = await self.queue.get()
            try:
                await self._post(client, body)
            finally:
                self.queue.task_done()

    async def _post(self, client: httpx.AsyncClient, body: Body) -> None:
        if body.acked:
            self.stats.redelivered += 1
        elif body.posts:
            self.stats.retried += 1
        body.posts += 1
        self.stats.posts += 1
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": body.signature}
        abandon = self.rng.random() < self.config.abandon_share
        timeout = httpx.Timeout(30.0, read=0.001) if abandon else httpx.Timeout(30.0)
        try:
            r = await client.post(self.url, content=body.raw, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            self.stats.abandoned += 1
            return self._failed(body)
        except httpx.TransportError:
            self.stats.refused += 1
            return self._failed(body)
        if r.status_code != 200:
            self.stats.not_ok[r.status_code] += 1
            return self._failed(body)
        body.acked = True
        body.failures = 0
        self.backlog.discard(id(body))

    def _failed(self, body: Body) -> None:
        if body.acked:
            return  # a redelivery of an acknowledged body: Meta has no reason to send it again
        body.failures += 1
        self.backlog.add(id(body))
        delay = min(2.0, 0.1 * 2**body.failures) * (0.5 + self.rng.random())

        async def retry() -> None:
            await asyncio.sleep(delay)
            if not body.acked:  # a redelivery may have been answered meanwhile
                await self.queue.put(body)

        timer = asyncio.create_task(retry())
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)


_T0 = time.monotonic()


def progress(line: str) -> None:
    print(f"[{time.monotonic() - _T0:7.1f} s] {line}", file=sys.stderr, flush=True)


# --- the kills ---------------------------------------------------------------------------------


@dataclass
class Kill:
    at_body: int
    targets: list[str]


def plan_kills(fleet: Fleet, bodies: int, config: CrashConfig, rng: random.Random) -> list[Kill]:
    """``config.kills`` kills at random points of the stream (10–90 % of the bodies sent).
    With a worker, the targets take turns (server, worker, both) in a random order."""
    choices = [[Fleet.SERVER]]
    if Fleet.WORKER in fleet.names:
        choices = [[Fleet.SERVER], [Fleet.WORKER], [Fleet.SERVER, Fleet.WORKER]]
    turns = [choices[i % len(choices)] for i in range(config.kills)]
    rng.shuffle(turns)
    points = sorted(int(bodies * rng.uniform(0.1, 0.9)) for _ in range(config.kills))
    return [Kill(point, targets) for point, targets in zip(points, turns, strict=True)]


#: a kill lands within this many seconds of the stream reaching its point, while bodies are in flight
KILL_WINDOW_SECONDS = 0.5


async def kill_during(
    fleet: Fleet, sender: Sender, sending: asyncio.Task[None], kills: list[Kill], rng: random.Random
) -> list[str]:
    """Carry out ``kills`` as the stream reaches each point. The stream goes at most
    ``KILL_WINDOW_SECONDS`` past the next point before that kill is made (a restart can take longer
    than the whole stream), and a kill waits for the restart of the one before. Answers what was
    killed, in order."""
    slack = max(1, int(sender.config.rate * KILL_WINDOW_SECONDS))
    done = []
    for i, kill in enumerate(kills):
        sender.gate = kill.at_body + slack
        while sender.sent_fresh < kill.at_body:
            if sending.done():
                raise RuntimeError("the stream ended before every kill")
            await asyncio.sleep(0.01)
        await asyncio.sleep(rng.uniform(0, KILL_WINDOW_SECONDS))
        for name in kill.targets:
            fleet.kill(name)
        done.append("+".join(kill.targets))
        progress(f"killed {done[-1]} at {sender.sent_fresh}/{len(sender.bodies)} bodies sent")
        sender.gate = kills[i + 1].at_body + slack if i + 1 < len(kills) else None
        await asyncio.sleep(rng.uniform(0, 0.5))
        await asyncio.gather(*(fleet.start(name) for name in kill.targets))
        progress(f"restarted {done[-1]}")
    sender.gate = None
    return done


# --- the verdict -------------------------------------------------------------------------------


@dataclass
class Report:
    backend: str
    messages: int
    bodies: int
    posts: int
    redelivered: int
    retried: int
    abandoned: int
    refused: int
    not_ok: dict[int, int]
    acknowledged: int
    kills: list[str]
    #: bodies stored but not processed when every process was killed after the stream
    final_backlog: int | None
    stored: int
    missing: int
    duplicates: int
    out_of_order: int
    split_conversations: int
    unprocessed_events: int
    stream_seconds: float
    settle_seconds: float

    @property
    def passed(self) -> bool:
        return (
            not (self.missing or self.duplicates or self.out_of_order or self.split_conversations)
            and not self.unprocessed_events
        )


async def unprocessed_bodies(database_url: str) -> int:
    """Stored webhook bodies not processed yet."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            unprocessed = (
                select(func.count()).select_from(WebhookEvent).where(WebhookEvent.processed_at.is_(None))
            )
            return int(await connection.scalar(unprocessed) or 0)
    finally:
        await engine.dispose()


async def wait_settled(database_url: str, timeout: float) -> tuple[int, float]:
    """Wait until no stored webhook body is left unprocessed; answers how many still are (0 unless
    ``timeout`` passed) and how long it took."""
    started = time.monotonic()
    while True:
        left = await unprocessed_bodies(database_url)
        if not left or time.monotonic() - started > timeout:
            return left, time.monotonic() - started
        await asyncio.sleep(0.1)


async def kill_after_the_stream(fleet: Fleet) -> int:
    """Kill every process once the last body is acknowledged, and start them again: no webhook
    follows, so what was stored but not processed must be picked up by the restart alone. Answers
    how many bodies that was (counted while nothing runs)."""
    for name in fleet.names:
        fleet.kill(name)
    backlog = await unprocessed_bodies(fleet.backend.database_url)
    progress(f"killed {'+'.join(fleet.names)} after the stream, {backlog} bodies unprocessed")
    await fleet.start_all()
    progress("restarted")
    return backlog


async def stored_messages(database_url: str, order: dict[str, int]) -> list[tuple[str, str, str]]:
    """(wamid, conversation id, customer wa_id) of every stored inbound message of the stream."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Message.wa_message_id, Message.conversation_id, Contact.wa_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Message.direction == Direction.INBOUND)
            )
            return [(w, c, who) for w, c, who in rows if w in order]
    finally:
        await engine.dispose()


async def listed_wamids(
    client: httpx.AsyncClient, headers: dict[str, str], conversation_id: str
) -> list[str]:
    """A conversation's messages as the API lists them (newest first), oldest first."""
    wamids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        r = await client.get(f"/conversations/{conversation_id}/messages", params=params, headers=headers)
        r.raise_for_status()
        page = r.json()
        wamids += [m["waMessageId"] for m in page["data"]]
        cursor = page["meta"]["nextCursor"]
        if not page["meta"]["hasMore"]:
            return wamids[::-1]


def out_of_order(listed: list[str], order: dict[str, int]) -> int:
    """Neighbours the list shows in the opposite order of sending."""
    positions = [order[w] for w in listed if w in order]
    return sum(1 for a, b in zip(positions, positions[1:], strict=False) if a > b)


async def verify(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    database_url: str,
    sender: Sender,
    order: dict[str, int],
) -> dict[str, int]:
    """Compare what was acknowledged with what the database stores (each wamid once, each customer
    in one conversation) and with what the API lists (each stored message once, in sending order)."""
    rows = await stored_messages(database_url, order)
    stored = Counter(w for w, _, _ in rows)
    conversations_of: dict[str, set[str]] = defaultdict(set)
    for _, conversation, who in rows:
        conversations_of[who].add(conversation)
    listed: Counter[str] = Counter()
    disorder = 0
    for conversation in sorted({c for cs in conversations_of.values() for c in cs}):
        wamids = await listed_wamids(client, headers, conversation)
        listed.update(w for w in wamids if w in order)
        disorder += out_of_order(wamids, order)
    acked = sender.acked_messages
    return {
        "stored": len(stored),
        "missing": len(acked - set(stored)) + len(set(stored) - set(listed)),
        "duplicates": sum(n - 1 for n in stored.values()) + sum(n - 1 for n in listed.values()),
        "out_of_order": disorder,
        "split_conversations": sum(len(cs) - 1 for cs in conversations_of.values()),
    }


@contextlib.asynccontextmanager
async def fleet_running(
    postgres_url: str | None = None, redis_url: str | None = None
) -> AsyncIterator[tuple[Fleet, FakeGraph]]:
    """The processes started on a fresh database, with the fake Graph API they talk to; on leaving,
    the processes are stopped and the database dropped."""
    graph = FakeGraph()
    graph.start()
    try:
        with tempfile.TemporaryDirectory(prefix="cxinbox-crash-") as tmp:
            async with backend(postgres_url, redis_url, Path(tmp)) as store:
                fleet = Fleet(store, graph.url, Path(tmp))
                try:
                    await fleet.start_all()
                    yield fleet, graph
                finally:
                    fleet.stop()
    finally:
        graph.stop()


async def run_crash(
    config: CrashConfig, postgres_url: str | None = None, redis_url: str | None = None
) -> Report:
    """The whole sweep on a fresh database."""
    async with fleet_running(postgres_url, redis_url) as (fleet, graph):
        return await _sweep(fleet, graph, config, random.Random(config.seed))


async def _sweep(fleet: Fleet, graph: FakeGraph, config: CrashConfig, rng: random.Random) -> Report:
    async with httpx.AsyncClient(base_url=fleet.url, timeout=60.0) as client:
        headers = await register_organization(client)
        number = await connect_number(client, headers, graph)
        bodies, order = build_bodies(number, config, rng)
        sender = Sender(fleet.url, bodies, config, rng)
        kills = plan_kills(fleet, len(bodies), config, rng)
        started = time.monotonic()
        sending = asyncio.create_task(sender.run())
        try:
            done = await kill_during(fleet, sender, sending, kills, rng)
            await sending
        finally:
            sending.cancel()
        stream_seconds = time.monotonic() - started
        final_backlog = await kill_after_the_stream(fleet) if config.final_kill else None
        unprocessed, settle_seconds = await wait_settled(fleet.backend.database_url, config.settle_seconds)
        found = await verify(client, headers, fleet.backend.database_url, sender, order)
    stats = sender.stats
    return Report(
        backend=fleet.backend.label,
        messages=config.count,
        bodies=len(bodies),
        posts=stats.posts,
        redelivered=stats.redelivered,
        retried=stats.retried,
        abandoned=stats.abandoned,
        refused=stats.refused,
        not_ok=dict(stats.not_ok),
        acknowledged=len(sender.acked_messages),
        kills=done,
        final_backlog=final_backlog,
        unprocessed_events=unprocessed,
        stream_seconds=stream_seconds,
        settle_seconds=settle_seconds,
        **found,
    )


def table(report: Report) -> str:
    kills = Counter(report.kills)
    rows = [
        ("messages sent", f"{report.messages} in {report.bodies} bodies"),
        ("POSTs", f"{report.posts}"),
        ("redelivered (already acknowledged)", f"{report.redelivered}"),
        ("retried (no 200 before)", f"{report.retried}"),
        ("answers not awaited (client gave up)", f"{report.abandoned}"),
        ("connection errors", f"{report.refused}"),
        ("other answers than 200", ", ".join(f"{k}: {v}" for k, v in sorted(report.not_ok.items())) or "0"),
        ("messages acknowledged", f"{report.acknowledged}"),
        (
            "kills during the stream (SIGKILL)",
            f"{len(report.kills)} (" + ", ".join(f"{k} ×{n}" for k, n in kills.items()) + ")",
        ),
        (
            "bodies unprocessed at the kill after the stream",
            "-" if report.final_backlog is None else f"{report.final_backlog}",
        ),
        ("messages stored", f"{report.stored}"),
        ("acknowledged but not stored or not listed", f"{report.missing}"),
        ("duplicates", f"{report.duplicates}"),
        ("out of order", f"{report.out_of_order}"),
        ("customers with more than one conversation", f"{report.split_conversations}"),
        ("stored bodies left unprocessed", f"{report.unprocessed_events}"),
        ("stream (s)", f"{report.stream_seconds:.1f}"),
        ("time to settle after the last answer or restart (s)", f"{report.settle_seconds:.1f}"),
    ]
    lines = [f"## Crash sweep, {report.backend}", "", "| | |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += ["", "PASS" if report.passed else "FAIL"]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    defaults = CrashConfig()
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=defaults.count, help="messages in the stream")
    parser.add_argument("--contacts", type=int, default=defaults.contacts, help="customers writing")
    parser.add_argument("--kills", type=int, default=defaults.kills, help="SIGKILLs during the stream")
    parser.add_argument("--rate", type=float, default=defaults.rate, help="bodies per second offered")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed of the stream and kills")
    parser.add_argument(
        "--postgres",
        help="a PostgreSQL URL (postgresql+asyncpg://…): the run creates a database of its own on that "
        "server and drops it afterwards (default: SQLite in a temporary directory)",
    )
    parser.add_argument(
        "--redis-url", help="give the processes Redis: serve --no-workers plus a cxinbox worker"
    )
    return parser.parse_args()


async def main() -> int:
    args = parse_args()
    config = CrashConfig(
        count=args.count, contacts=args.contacts, kills=args.kills, rate=args.rate, seed=args.seed
    )
    report = await run_crash(config, args.postgres, args.redis_url)
    print(table(report))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
