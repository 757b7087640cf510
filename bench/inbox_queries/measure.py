"""Timing the inbox's queries: through the HTTP API of a real server, one request at a time."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.inbox_queries.dataset import COMMON_WORD, Bench, contact_index, order_number, wa_id
from cxinbox.config import Settings
from cxinbox.conversations.queries import NOT_CLOSED
from cxinbox.core.pagination import KeysetOrder, cursor_page, parse_datetime
from cxinbox.migrations import upgrade
from cxinbox.models.inbox import Contact, Conversation, Message
from cxinbox.runtime import Runtime

#: the benches' access tokens outlast a run
TOKEN_SECONDS = 7200


@dataclass
class Timing:
    name: str
    how: str
    samples: list[float]  # milliseconds
    rows: int

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def migrated_runtime(
    database_url: str, *, prefix: str = "cxinbox-bench-", env: dict[str, str] | None = None
) -> tuple[dict[str, str], Path, Runtime]:
    """The database migrated, the environment the API server will run with (``api_server``: a
    fresh secret key, no rate limits, tokens that outlast the run, plus ``env``), its data folder,
    and a runtime on that database for building the data (the caller stops it)."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    server_env = {
        "CXINBOX_DATABASE_URL": database_url,
        "CXINBOX_SECRET_KEY": f"bench-{uuid.uuid4().hex}",
        "CXINBOX_RATE_LIMITS": "off",
        "CXINBOX_ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_SECONDS),
        **(env or {}),
    }
    print(f"migrating {database_url.split('@')[-1]}…")
    started = time.monotonic()
    await asyncio.to_thread(upgrade, database_url)
    print(f"migrated in {time.monotonic() - started:.0f} s")
    settings = Settings(
        database_url=database_url,
        secret_key=server_env["CXINBOX_SECRET_KEY"],
        access_token_ttl_seconds=TOKEN_SECONDS,
        data_dir=data_dir,
    )
    return server_env, data_dir, Runtime(settings)


@contextmanager
def api_server(env: dict[str, str], data_dir: Path, *, start_seconds: float = 60) -> Iterator[str]:
    """``cxinbox.app`` under uvicorn on 127.0.0.1 in its own process; its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "cxinbox.app:create_app_from_env",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server_env = os.environ | env | {"CXINBOX_DATA_DIR": str(data_dir), "CXINBOX_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(command, env=server_env)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the API server did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def same_params(params: dict[str, str]) -> Callable[[int], dict[str, str]]:
    """The query parameters of ``time_http`` when every request sends the same ones."""
    return lambda _i: params


async def time_http(
    http: httpx.AsyncClient,
    name: str,
    token: str,
    params: Callable[[int], dict[str, str]],
    requests: int,
    path: str = "/conversations",
) -> Timing:
    headers = {"Authorization": f"Bearer {token}"}
    samples, rows = [], 0
    for i in range(-max(3, requests // 10), requests):  # the first ones warm up, untimed
        started = time.perf_counter()
        response = await http.get(path, params=params(i), headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        if i >= 0:
            samples.append(elapsed)
            data = response.json()["data"]
            rows += len(data) if isinstance(data, list) else 1
    shown = "&".join(f"{k}={'…' if k == 'cursor' else v}" for k, v in params(0).items())
    return Timing(name, f"GET {path}{'?' + shown if shown else ''}", samples, rows // max(1, requests))


async def active_contacts(runtime: Runtime, bench: Bench, count: int, seed: int) -> list[int]:
    """Indexes (see ``dataset.wa_id``) of contacts whose conversation is not closed: what the inbox
    searches by default."""
    async with runtime.sessionmaker() as session:
        numbers = list(
            await session.scalars(
                select(Contact.wa_id)
                .join(Conversation, Conversation.contact_id == Contact.id)
                .where(Conversation.organization_id == bench.organization_id, NOT_CLOSED)
                .limit(count * 20)
            )
        )
    return [contact_index(number) for number in random.Random(seed).sample(numbers, min(count, len(numbers)))]


async def http_timings(
    base: str, bench: Bench, contacts: list[int], requests: int, only: list[str] | None = None
) -> list[Timing]:
    phones = [wa_id(i)[3:10] for i in contacts]  # 7 digits from inside the number
    orders = [order_number(i) for i in contacts]
    statuses = ["OPEN", "HUMAN_HANDLING", "WAITING_FOR_CUSTOMER", "BOT_HANDLING"]
    timings = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        first = (
            await http.get("/conversations", headers={"Authorization": f"Bearer {bench.admin_token}"})
        ).json()
        cursor = first["meta"]["nextCursor"]
        cases: list[tuple[str, str, Callable[[int], dict[str, str]], str]] = [
            ("default list (50 newest, not closed)", bench.admin_token, lambda i: {}, "/conversations"),
            ("next page (cursor)", bench.admin_token, lambda i: {"cursor": cursor}, "/conversations"),
            ("status filter", bench.admin_token, lambda i: {"status": statuses[i % 4]}, "/conversations"),
            ("assignedTo=me", bench.admin_token, lambda i: {"assignedTo": "me"}, "/conversations"),
            (
                "subFilter=needs_action",
                bench.admin_token,
                lambda i: {"subFilter": "needs_action"},
                "/conversations",
            ),
            ("an agent's inbox (own + team queue)", bench.agent_token, lambda i: {}, "/conversations"),
            (
                "search by phone (7 digits)",
                bench.admin_token,
                lambda i: {"search": phones[i % requests]},
                "/conversations",
            ),
            (
                "search by text (an order number)",
                bench.admin_token,
                lambda i: {"search": orders[i % requests]},
                "/conversations",
            ),
            (
                f"search by text (common word '{COMMON_WORD}')",
                bench.admin_token,
                lambda i: {"search": COMMON_WORD},
                "/conversations",
            ),
            ("counts {all, unread, needsAction}", bench.admin_token, lambda i: {}, "/conversations/counts"),
            ("counts, an agent", bench.agent_token, lambda i: {}, "/conversations/counts"),
        ]
        for name, token, params, path in cases:
            if only and not any(word in name for word in only):
                continue
            timing = await time_http(http, name, token, params, requests, path)
            print(f"  {name}: p50 {timing.p50:.1f} ms, p95 {timing.p95:.1f} ms")
            timings.append(timing)
    return timings


async def latest_messages_timing(runtime: Runtime, bench: Bench, requests: int, seed: int) -> Timing:
    """The latest 50 messages of a conversation. Its route belongs to the messages area (not in
    this branch): timed here as that route's query, in-process without HTTP."""
    order = KeysetOrder([Message.ordered_at, Message.id], descending=True, decoders=[parse_datetime, str])
    async with runtime.sessionmaker() as session:
        ids = list(
            await session.scalars(
                select(Conversation.id)
                .where(Conversation.organization_id == bench.organization_id)
                .limit(5000)
            )
        )
    rng = random.Random(seed)
    samples, rows = [], 0
    for i in range(-10, requests):
        conversation_id = rng.choice(ids)
        started = time.perf_counter()
        async with runtime.sessionmaker() as session:
            stmt = select(Message).where(
                Message.organization_id == bench.organization_id, Message.conversation_id == conversation_id
            )
            page, _ = await cursor_page(session, stmt, order, None, 50, key=lambda m: (m.ordered_at, m.id))
        if i >= 0:
            samples.append((time.perf_counter() - started) * 1000)
            rows += len(page)
    return Timing(
        "latest 50 messages of a conversation",
        "query only (route not in this branch)",
        samples,
        rows // requests,
    )


def table(timings: list[Timing]) -> str:
    lines = ["| query | request | rows | p50 ms | p95 ms |", "|---|---|---:|---:|---:|"]
    for t in timings:
        lines.append(f"| {t.name} | `{t.how}` | {t.rows} | {t.p50:.1f} | {t.p95:.1f} |")
    return "\n".join(lines)
