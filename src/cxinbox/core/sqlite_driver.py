"""SQLite's asyncio driver with one trip to the connection's thread per statement.

aiosqlite runs every call on a sqlite3 connection in a thread of its own, and SQLAlchemy's adapter
makes four such calls per statement: make a cursor, execute, fetch the rows, close the cursor. Each
is a hand-off to the thread and back through the event loop: a queue put, a thread switch and a
callback, costing more than the statement itself on a small table, and making every statement of a
request wait four times behind whatever else the loop has ready. ``OneTripConnection`` makes its
cursors do the four in one call: the statement runs, its rows are read and its cursor closed in the
thread, and the cursor answers ``fetchall``, ``fetchone`` and ``fetchmany`` from the rows read.
A transaction's ``BEGIN`` goes with its first statement; its commit or rollback is one trip, and
none when no transaction is open.

Installed per engine by ``use_one_trip_cursors`` (the dialect's ``do_connect`` hook hands it the
URL's connect arguments), so the engine and its URL stay SQLAlchemy's ``sqlite+aiosqlite``.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

Row = Any
Description = tuple[tuple[Any, ...], ...] | None


def _run(
    connection: sqlite3.Connection, begin: str | None, many: bool, sql: str, parameters: Any
) -> tuple[list[Row], Description, int, int | None]:
    """One statement, in the connection's thread (after ``begin``, the transaction's start, when the
    statement is its first): its rows, description, row count and last row id."""
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return rows, cursor.description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor:
    """The part of aiosqlite's cursor SQLAlchemy's adapter uses, a statement's rows read at once."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: deque[Row] = deque()
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneTripCursor:
        return await self._run(False, sql, () if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneTripCursor:
        return await self._run(True, sql, parameters)

    async def _run(self, many: bool, sql: str, parameters: Any) -> OneTripCursor:
        connection = self._connection
        begin, connection.pending_begin = connection.pending_begin, None
        rows, self.description, self.rowcount, self.lastrowid = await connection.in_thread(
            _run, begin, many, sql, parameters
        )
        self._rows = deque(rows)
        return self

    async def fetchone(self) -> Row | None:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        count = min(len(self._rows), self.arraysize if size is None else size)
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Row]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()  # the sqlite3 cursor was closed in the thread


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection whose cursors make one trip per statement, the transaction's ``BEGIN``
    travelling with its first statement (``begin_with_next_statement``)."""

    #: the statement that starts the transaction, sent with the next statement
    pending_begin: str | None = None

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    def begin_with_next_statement(self, begin: str) -> None:
        """Start a transaction with ``begin`` (``BEGIN``, ``BEGIN IMMEDIATE``) in the same trip as its
        first statement. Its failure (a lock another process holds past the busy timeout) is then the
        first statement's."""
        self.pending_begin = begin

    async def commit(self) -> None:
        if self._ended_unstarted():
            return
        await super().commit()

    async def rollback(self) -> None:
        if self._ended_unstarted():
            return
        await super().rollback()

    def _ended_unstarted(self) -> bool:
        """A transaction that ran no statement never began, and a connection in no transaction (the
        pool's rollback of a connection handed back after its commit) has none to end: the end has
        nothing to do, which sqlite3 would find out only in the connection's thread. Reading
        ``in_transaction`` (SQLite's autocommit flag, which sqlite3 reads without its same-thread
        check, as aiosqlite's own ``in_transaction`` does) from the event loop's thread is safe here:
        the connection's calls are awaited one at a time, so none is running in its thread to change
        the flag while it is read."""
        unstarted, self.pending_begin = self.pending_begin is not None, None
        return unstarted or not self._conn.in_transaction

    async def in_thread(self, fn: Any, *args: Any) -> Any:
        """``fn(the sqlite3 connection, *args)`` in the connection's thread."""
        return await self._execute(fn, self._conn, *args)


def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """``aiosqlite.connect`` for ``OneTripConnection``."""
    connection = OneTripConnection(partial(sqlite3.connect, database, **kwargs), iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy sets aiosqlite's: never keeps the process up
    return connection


def use_one_trip_cursors(engine: AsyncEngine) -> None:
    """Make ``engine`` (``sqlite+aiosqlite``) connect with ``OneTripConnection``."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["async_creator_fn"] = connect
