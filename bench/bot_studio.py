"""The bot studio's bundle: export and import of a large config over the API.

One organization's active config with ``--intents`` intents (200), ``--versions`` prompt versions
(500) and ``--documents`` knowledge documents (1,000 TXT files of about 1 KB, each READY with one
chunk), written directly to the database and the file store. Over HTTP (the app in process):

1. ``GET /bot-config/export`` at each tier and ``GET /bot-config/export-zip?tier=full``: time
   (median of ``--runs``) and the bundle's size;
2. ``POST /bot-config/import`` of the ``config`` tier bundle (median of ``--runs``, each a new draft)
   and once of the ``standard`` bundle into an empty organization (every document uploaded again
   and queued for ingestion, which no worker runs here).

    .venv/bin/python -m bench.bot_studio [--documents 1000] [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path

import httpx

from bench.machine import load_average, machine
from cxinbox.app import create_app
from cxinbox.auth.refresh import start_session
from cxinbox.config import Settings
from cxinbox.core.clock import utcnow
from cxinbox.core.logging import configure_logging
from cxinbox.migrations import upgrade
from cxinbox.models.bot import BotConfig, BotIntent
from cxinbox.models.bot_studio import BotPromptVersion
from cxinbox.models.identity import Organization, Plan, Role, User
from cxinbox.models.knowledge import DocumentStatus, KnowledgeChunk, KnowledgeDocument
from cxinbox.runtime import Runtime

WORDS = [
    "horario",
    "envío",
    "pedido",
    "factura",
    "garantía",
    "devolución",
    "tienda",
    "pago",
    "tarjeta",
    "cuenta",
    "soporte",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--intents", type=int, default=200)
    parser.add_argument("--versions", type=int, default=500)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="migrated by the bench (default: SQLite in a temp dir)")
    return parser.parse_args()


def text_of(n: int) -> str:
    return f"Documento {n}. " + " ".join(WORDS[(n + i) % len(WORDS)] for i in range(150)) + "\n"


async def admin_of(runtime: Runtime, name: str) -> tuple[str, dict[str, str]]:
    async with runtime.unit_of_work() as session:
        org = Organization(name=name, slug=f"bench-studio-{uuid.uuid4().hex[:8]}", plan=Plan.ENTERPRISE)
        session.add(org)
        await session.flush()
        user = User(
            organization_id=org.id, email=f"admin@{org.slug}.example.com", name="Admin", role=Role.ADMIN
        )
        session.add(user)
        await session.flush()
        pair = start_session(session, runtime, user)
    return org.id, {"Authorization": f"Bearer {pair.access_token}"}


async def seed(runtime: Runtime, org_id: str, args: argparse.Namespace) -> None:
    now = utcnow()
    async with runtime.unit_of_work() as session:
        config = BotConfig(
            organization_id=org_id, name="Bench", system_prompt="v0", is_active=True, categories=[]
        )
        session.add(config)
        await session.flush()
        session.add_all(
            BotIntent(
                organization_id=org_id,
                bot_config_id=config.id,
                name=f"Intent {i}",
                description="Una intención del bench",
                examples=[f"ejemplo {i} {w}" for w in WORDS[:5]],
                response=f"Respuesta {i}",
                order=i,
            )
            for i in range(args.intents)
        )
        session.add_all(
            BotPromptVersion(
                organization_id=org_id,
                bot_config_id=config.id,
                number=v + 1,
                system_prompt=f"Eres el asistente (versión {v + 1}). " + " ".join(WORDS) * 10,
                source="EDIT",
                created_at=now - timedelta(minutes=args.versions - v),
            )
            for v in range(args.versions)
        )
        config.system_prompt = f"Eres el asistente (versión {args.versions}). " + " ".join(WORDS) * 10
    for start in range(0, args.documents, 200):
        async with runtime.unit_of_work() as session:
            for n in range(start, min(start + 200, args.documents)):
                data = text_of(n).encode()
                key = f"knowledge/{org_id}/bench-{n}.txt"
                await runtime.storage.save(key, data, "text/plain")
                document = KnowledgeDocument(
                    organization_id=org_id,
                    filename=f"doc-{n}.txt",
                    kind="txt",
                    mime_type="text/plain",
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    storage_key=key,
                    status=DocumentStatus.READY,
                    progress=100,
                    chunk_count=1,
                )
                session.add(document)
                await session.flush()
                content = data.decode().strip()
                session.add(
                    KnowledgeChunk(
                        organization_id=org_id,
                        document_id=document.id,
                        index=0,
                        content=content,
                        token_count=len(content.split()),
                        search_text=content.lower(),
                    )
                )


async def timed(request: Awaitable[httpx.Response], expect: int) -> tuple[float, httpx.Response]:
    """The request's time (a coroutine runs only when awaited) and its answer."""
    started = time.perf_counter()
    response = await request
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == expect, response.text[:500]
    return elapsed, response


async def run(args: argparse.Namespace, data_dir: Path) -> list[tuple[str, str, str]]:
    settings = Settings(
        env="test",
        data_dir=data_dir,
        database_url=args.database_url or f"sqlite+aiosqlite:///{data_dir}/bench.db",
        secret_key="bench-secret-key",
        rate_limits="off",
        log_level="WARNING",
    )
    await asyncio.to_thread(upgrade, settings.database_url)
    runtime = Runtime(settings)
    await runtime.start(workers=False)
    rows: list[tuple[str, str, str]] = []
    try:
        source, source_headers = await admin_of(runtime, "Studio bench source")
        started = time.monotonic()
        await seed(runtime, source, args)
        shape = f"{args.intents} intents, {args.versions} versions, {args.documents:,} documents"
        print(f"seeded {shape} in {time.monotonic() - started:.0f} s")
        app = create_app(runtime=runtime)
        app.state.runtime = runtime
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench/api/v1", timeout=600
        ) as client:
            bundles: dict[str, bytes] = {}
            for path, tier in (
                ("export", "config"),
                ("export", "standard"),
                ("export", "full"),
                ("export-zip", "full"),
            ):
                url = f"/bot-config/{path}?tier={tier}"
                times = []
                for _ in range(args.runs):
                    elapsed, response = await timed(client.get(url, headers=source_headers), 200)
                    times.append(elapsed)
                bundles[f"{path} {tier}"] = response.content
                rows.append(
                    (
                        f"GET {path}?tier={tier} ms",
                        f"{statistics.median(times):.0f}",
                        f"{len(response.content) / 1024:,.0f} KB; {shape}",
                    )
                )
            target, target_headers = await admin_of(runtime, "Studio bench target")
            times = []
            for _ in range(args.runs):
                files = {"file": ("bot.json", bundles["export config"])}
                elapsed, _ = await timed(
                    client.post("/bot-config/import", files=files, headers=target_headers), 201
                )
                times.append(elapsed)
            rows.append(
                ("POST import (config tier) ms", f"{statistics.median(times):.0f}", "a new draft each")
            )
            files = {"file": ("bot.json", bundles["export standard"])}
            elapsed, _ = await timed(
                client.post("/bot-config/import", files=files, headers=target_headers), 201
            )
            rows.append(
                (
                    "POST import (standard tier) ms",
                    f"{elapsed:.0f}",
                    f"once; {args.documents:,} documents uploaded again, prompt history, intents",
                )
            )
    finally:
        await runtime.stop()
    return rows


def table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| figure | value | notes |", "|---|---:|---|"]
    lines += [f"| {label} | {value} | {note} |" for label, value, note in rows]
    return "\n".join(lines)


async def main() -> None:
    args = parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        rows = await run(args, Path(tmp))
    print(f"{machine()}, load average {load_average()}")
    print(table(rows))


if __name__ == "__main__":
    asyncio.run(main())
