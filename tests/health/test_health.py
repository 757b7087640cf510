"""GET /health and GET /ready."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from cxinbox.app import create_app
from cxinbox.runtime import Runtime
from tests.fixtures.net import free_port


async def test_health_answers_ok(client):
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"data": {"status": "ok"}}


async def test_ready_checks_the_database_and_redis(client, settings):
    r = await client.get("/ready")
    assert r.status_code == 200, r.text
    expected = {"database": "ok", **({"redis": "ok"} if settings.redis_url else {})}
    assert r.json() == {"data": {"status": "ready", "checks": expected}}


def unreachable_postgresql(_tmp_path: Path) -> dict[str, str | None]:
    return {
        "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/cxinbox",
        "redis_url": None,
    }


def unopenable_sqlite(tmp_path: Path) -> dict[str, str | None]:
    return {"database_url": f"sqlite+aiosqlite:///{tmp_path}", "redis_url": None}  # a directory


def unreachable_redis(_tmp_path: Path) -> dict[str, str | None]:
    return {"redis_url": f"redis://127.0.0.1:{free_port()}/0"}


@pytest.mark.parametrize("broken", [unreachable_postgresql, unopenable_sqlite, unreachable_redis])
async def test_ready_answers_503_when_a_dependency_does_not_answer(runtime, settings, tmp_path, broken):
    rt = Runtime(settings.model_copy(update=broken(tmp_path)))  # not started: nothing to connect to
    app = create_app(runtime=rt)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
                r = await client.get("/ready")
                health = await client.get("/health")
    finally:
        await rt.stop()
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert set(r.json()["error"]) <= {"code", "message", "details"}
    assert health.status_code == 200  # alive, only not ready


async def test_ready_answers_503_when_the_database_hangs(settings):
    """A server that accepts connections and never speaks: the probe gives up instead of hanging."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rt = Runtime(
        settings.model_copy(
            update={
                "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/cxinbox",
                "redis_url": None,
                "ready_timeout_seconds": 0.3,
            }
        )
    )
    app = create_app(runtime=rt)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
                r = await client.get("/ready")
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await rt.stop()
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert accepted, "the probe never reached the silent server"
