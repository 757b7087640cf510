"""SQLite's driver with one trip to the connection's thread per statement (``core.sqlite_driver``):
statements answer as through aiosqlite's own cursors, each in one call to the thread."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from cxinbox.core.db import create_engine, create_read_engine, create_sessionmaker, unit_of_work
from cxinbox.core.sqlite_driver import OneTripConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/one-trip.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


def count_trips(connection: OneTripConnection) -> list[str]:
    """The calls ``connection`` hands to its thread from now on (their functions' names)."""
    trips: list[str] = []
    hand_off = connection._execute

    async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await hand_off(fn, *args, **kwargs)

    connection._execute = counted  # type: ignore[method-assign]
    return trips


async def test_rows_row_counts_and_insert_ids_come_back(engine):
    async with engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert (inserted.rowcount, inserted.lastrowid) == (1, 1)
        await conn.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}])
        returned = await conn.execute(text("INSERT INTO t (name) VALUES ('d') RETURNING id, name"))
        assert returned.all() == [(4, "d")]
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 3
        rows = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(rows.keys()) == ["id", "name"]
        assert rows.all() == [(1, "a"), (2, "b!"), (3, "c!"), (4, "d!")]
        partial = await conn.execute(text("SELECT id FROM t ORDER BY id"))
        assert partial.fetchmany(3) == [(1,), (2,), (3,)]
        assert partial.fetchone() == (4,)
        assert partial.fetchone() is None
        assert (await conn.execute(text("SELECT id FROM t WHERE id > 99"))).all() == []


async def test_a_statement_is_one_trip_to_the_thread(engine):
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert isinstance(driver, OneTripConnection)
        trips = count_trips(driver)
        await conn.execute(text("SELECT id, name FROM t"))
        assert len(trips) == 1  # BEGIN IMMEDIATE with the statement, its rows read
        assert driver.in_transaction
        await conn.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": "x"}, {"name": "y"}])
        await conn.commit()
        assert len(trips) == 3  # the executemany, the commit
        assert not driver.in_transaction


async def test_a_transaction_without_statements_makes_no_trip(engine):
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        trips = count_trips(driver)
        await conn.begin()
        await conn.commit()
        await conn.begin()
        await conn.rollback()
        assert trips == []
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        await conn.rollback()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_a_connection_handed_back_after_its_commit_makes_no_rollback_trip(engine):
    """The pool rolls back every connection handed back to it; after a commit no transaction is open
    and that rollback stays out of the thread. One still open is rolled back in it."""
    sessions = create_sessionmaker(engine)
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
    trips = count_trips(driver)
    async with unit_of_work(sessions) as session:
        await session.execute(text("INSERT INTO t (name) VALUES ('a')"))
    assert trips == ["_run", "commit"]  # the statement and the commit; no rollback as it goes back
    trips.clear()
    async with sessions() as session:
        await session.execute(text("INSERT INTO t (name) VALUES ('b')"))
        assert driver.in_transaction
    assert trips == ["_run", "rollback"]  # handed back in its transaction: rolled back
    assert not driver.in_transaction
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM t"))).scalars().all() == ["a"]


async def test_a_write_waits_for_another_process_writer_then_fails_as_its_first_statement(tmp_path):
    """``BEGIN IMMEDIATE`` travels with the first statement: a lock held elsewhere past the busy
    timeout is that statement's error, and the write gate is free again afterwards."""
    path = tmp_path / "locked.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.in_thread(lambda sqlite, ms: sqlite.execute(f"PRAGMA busy_timeout={ms}"), 50)
            with pytest.raises(OperationalError, match="locked"):
                await conn.execute(text("INSERT INTO t DEFAULT VALUES"))
            await conn.rollback()
        other.execute("ROLLBACK")
        other.close()
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t DEFAULT VALUES"))
    finally:
        await engine.dispose()


async def test_errors_are_the_databases(engine):
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    with pytest.raises(OperationalError):
        async with engine.begin() as conn:
            await conn.execute(text("SELECT nothing FROM nowhere"))
    async with engine.connect() as conn:  # the connections are usable after a failure
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1


async def test_read_engines_connect_the_same_way_and_stay_read_only(engine):
    reader = create_read_engine(engine)
    try:
        async with reader.connect() as conn:
            assert isinstance((await conn.get_raw_connection()).driver_connection, OneTripConnection)
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
            with pytest.raises(OperationalError):
                await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    finally:
        await reader.dispose()
