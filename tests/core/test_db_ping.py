"""Pooled PostgreSQL connections are checked at checkout only after being idle a while
(``core.db_ping``): one whose server end went away meanwhile is replaced, not handed out."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cxinbox.core import db_ping
from cxinbox.core.db import create_engine


async def _backend(connection) -> int:
    return int((await connection.execute(text("select pg_backend_pid()"))).scalar_one())


async def test_an_idle_connection_whose_server_end_died_is_replaced(database_url, monkeypatch):
    if database_url.startswith("sqlite"):
        pytest.skip("pooled server connections only")
    engine = create_engine(database_url)
    try:
        async with engine.connect() as first, engine.connect() as second:
            pooled = {await _backend(first), await _backend(second)}
        async with engine.connect() as connection:
            survivor = await _backend(connection)
            (victim,) = pooled - {survivor}
            await connection.execute(text(f"select pg_terminate_backend({victim})"))
        # both pooled connections count as idle now: each is pinged at checkout
        monkeypatch.setattr(db_ping, "IDLE_PING_SECONDS", 0.0)
        async with engine.connect() as first, engine.connect() as second:
            backends = {await _backend(first), await _backend(second)}
        assert survivor in backends and victim not in backends and len(backends) == 2
    finally:
        await engine.dispose()
