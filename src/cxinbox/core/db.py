"""Engine, sessions and the unit of work.

SQLite is configured for correctness under concurrency: the driver's own transaction handling is
switched off and every transaction starts with ``BEGIN IMMEDIATE`` (writers queue instead of failing
or silently losing updates), in WAL mode. Inside one process, transactions queue at a gate
(``WriteGate``) before ``BEGIN IMMEDIATE``: SQLite's own busy handler sleeps in steps of up to
100 ms, which under load turns a few milliseconds of waiting into long stalls. The busy timeout
still covers other processes. At the gate a request's transaction goes before the jobs' waiting
ones (``write_priority``: the runtime marks its jobs and periodic tasks as background), so a webhook's
acknowledgement waits for the one transaction in progress, not for a campaign's queued batches.

Reads that change nothing take a read session (``create_read_engine``): on SQLite a deferred
transaction on connections of their own, outside the write gate and refused every write
(``PRAGMA query_only``), so they read a WAL snapshot while a writer holds the gate; on PostgreSQL a
read-only transaction, on the primary or on a replica.

A unit of work is one transaction (a request's or a job's). Services never commit: they queue jobs
and events with ``after_commit()``; the unit of work commits, then releases them, so a rolled-back
request enqueues nothing. What must be stored even when the work fails (an API key's use) is
queued with ``after_rollback()`` and done in a transaction of its own if the work rolls back.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from contextvars import ContextVar
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar

import structlog
from sqlalchemy import ColumnElement, ScalarSelect, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.util import await_only

from cxinbox.core.db_ping import ping_when_idle
from cxinbox.core.ids import new_id
from cxinbox.core.sqlite_driver import use_one_trip_cursors

log = structlog.get_logger(__name__)

AfterTransaction = Callable[[], Awaitable[None]]
BeforeCommit = Callable[[AsyncSession], Awaitable[None]]

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: connections a SQLite engine keeps open, and how many more it opens under load (closed when
#: returned). Opening one costs about ten times a simple query's CPU (a thread of its own, the
#: pragmas, the schema parsed again and each statement prepared again on its first use): with
#: SQLAlchemy's default of 5 kept, a burst of webhooks and bot turns opened and closed one every few
#: messages. As on PostgreSQL: 10 kept, 20 more at most.
SQLITE_POOL_SIZE, SQLITE_MAX_OVERFLOW = 10, 20

M = TypeVar("M")


class WritePriority(IntEnum):
    """Who waits for the write gate: the lower value goes first (``WriteGate``)."""

    #: a request's transaction (a webhook's acknowledgement, an agent's write): someone is waiting
    #: for its answer
    FOREGROUND = 0
    #: a job's (and the job queue's and scheduler's own): nobody waits for it at this moment
    BACKGROUND = 1


#: the priority of the write transactions begun in this context. Requests keep the default; the
#: runtime marks its jobs, job runners and periodic tasks BACKGROUND (tasks they start inherit it)
_WRITE_PRIORITY: ContextVar[WritePriority] = ContextVar("write_priority", default=WritePriority.FOREGROUND)


@contextmanager
def write_priority(priority: WritePriority) -> Iterator[None]:
    """Begin the write transactions of this block (and of the tasks it starts) at ``priority``."""
    token = _WRITE_PRIORITY.set(priority)
    try:
        yield
    finally:
        _WRITE_PRIORITY.reset(token)


def current_write_priority() -> WritePriority:
    return _WRITE_PRIORITY.get()


#: a background transaction waiting for the gate lets at most this many foreground ones go first
FOREGROUND_AHEAD_OF_BACKGROUND = 8


class WriteGate:
    """One SQLite transaction at a time in this process: foreground (a request's) before background
    (a job's), each in arrival order.

    Taken in the engine's ``begin`` event (inside SQLAlchemy's greenlet, hence ``await_only``) and
    released once the DBAPI connection has committed or rolled back, or is closed. A release hands
    the gate straight to the next waiter: the first foreground one, unless a background one has
    waited while ``FOREGROUND_AHEAD_OF_BACKGROUND`` foreground ones went first (then it goes: a
    stream of requests never starves the jobs). Nothing is preempted: a request that arrives while a
    job holds the gate waits for that one transaction, not for the jobs queued behind it. A wait
    still ends after the busy timeout, as SQLite's own would.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._taken = False
        self._holder: Any = None
        #: waiters by priority, each in arrival order
        self._queues: tuple[deque[asyncio.Future[None]], ...] = tuple(deque() for _ in WritePriority)
        #: foreground grants in a row while a background transaction waited
        self._ahead = 0
        sync_engine = engine.sync_engine
        dialect = sync_engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        dialect.do_commit, dialect.do_rollback = do_commit, do_rollback  # type: ignore[method-assign]
        event.listen(
            sync_engine.pool, "close", lambda dbapi_connection, _record: self.release(dbapi_connection)
        )
        event.listen(
            sync_engine.pool,
            "invalidate",
            lambda dbapi_connection, _record, _exc: self.release(dbapi_connection),
        )

    def acquire(self, dbapi_connection: Any) -> None:
        """Wait for the gate (from sync code running in SQLAlchemy's greenlet), at the priority of
        the calling context (``write_priority``)."""
        try:
            await_only(self._acquire_within(current_write_priority(), SQLITE_BUSY_TIMEOUT_MS / 1000))
        except TimeoutError as exc:
            raise sqlite3.OperationalError("database is locked (write gate timeout)") from exc
        self._holder = _raw(dbapi_connection)

    def waiting(self, priority: WritePriority) -> int:
        """Transactions of ``priority`` waiting for the gate."""
        return sum(not waiter.done() for waiter in self._queues[priority])

    async def _acquire_within(self, priority: WritePriority, seconds: float) -> None:
        """Take the gate in the calling task (``asyncio.wait_for`` would start a task of its own for
        every transaction). A wait cancelled or timed out leaves its place; if the gate was handed
        to it meanwhile, it hands the gate on."""
        if not self._taken:
            self._taken = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queues[priority]
        queue.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._hand_on()
            else:
                with suppress(ValueError):
                    queue.remove(waiter)
            raise

    def release(self, dbapi_connection: Any) -> None:
        if self._holder is not None and self._holder is _raw(dbapi_connection):
            self._holder = None
            self._hand_on()

    def _hand_on(self) -> None:
        """Give the gate to the next waiter (see the class), or leave it free."""
        foreground, background = (self._pending(priority) for priority in WritePriority)
        if foreground and not (background and self._ahead >= FOREGROUND_AHEAD_OF_BACKGROUND):
            self._ahead = self._ahead + 1 if background else 0
            foreground.popleft().set_result(None)
        elif background:
            self._ahead = 0
            background.popleft().set_result(None)
        else:
            self._ahead = 0
            self._taken = False

    def _pending(self, priority: WritePriority) -> deque[asyncio.Future[None]]:
        """The queue of ``priority`` without the waits that ended (cancelled) at its head."""
        queue = self._queues[priority]
        while queue and queue[0].done():
            queue.popleft()
        return queue


def _raw(connection: Any) -> Any:
    """The DBAPI connection behind a pool proxy (SQLAlchemy hands either to dialect methods)."""
    return getattr(connection, "dbapi_connection", connection)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """The engine of ``url``. Its errors never carry a statement's parameters (``hide_parameters``):
    they may be secrets (a password hash, a token's hash), and errors end up in logs."""
    if make_url(url).get_backend_name() != "sqlite":
        return _server_engine(url, echo=echo)
    engine = _sqlite_engine(url, echo=echo, query_only=False)
    gate = _GATES[engine.sync_engine] = WriteGate(engine)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        gate.acquire(conn.connection.dbapi_connection)
        conn.connection.driver_connection.begin_with_next_statement("BEGIN IMMEDIATE")

    return engine


#: each SQLite engine's gate
_GATES: weakref.WeakKeyDictionary[Any, WriteGate] = weakref.WeakKeyDictionary()


def write_gate_of(engine: AsyncEngine) -> WriteGate | None:
    """The write gate of a SQLite engine made by ``create_engine`` (None on PostgreSQL)."""
    return _GATES.get(engine.sync_engine)


def create_read_engine(primary: AsyncEngine, read_url: str | None = None) -> AsyncEngine:
    """The engine of read sessions: ``read_url`` (a replica) or the primary's database, read-only.

    On SQLite, a pool of its own whose transactions are deferred (``BEGIN``: a snapshot, no lock
    taken) and never wait for the write gate; an in-memory database is one connection's, so its
    reads stay on the primary. On PostgreSQL, the primary's pool (or the replica's), each
    transaction ``READ ONLY``.
    """
    url = make_url(read_url) if read_url else primary.url
    if url.get_backend_name() != "sqlite":
        engine = _server_engine(url.render_as_string(hide_password=False)) if read_url else primary
        return engine.execution_options(postgresql_readonly=True)
    if url.database in (None, "", ":memory:"):
        return primary
    engine = _sqlite_engine(url.render_as_string(hide_password=False), query_only=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.connection.driver_connection.begin_with_next_statement("BEGIN")

    return engine


def _server_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    engine = create_async_engine(url, echo=echo, hide_parameters=True, pool_size=10, max_overflow=20)
    ping_when_idle(engine)
    return engine


#: the pool of a SQLite file's engine (an in-memory database keeps SQLAlchemy's single connection)
_SQLITE_POOL = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_MAX_OVERFLOW}


def _sqlite_engine(url: str, *, query_only: bool, echo: bool = False) -> AsyncEngine:
    """A SQLite engine in WAL mode whose transactions we begin ourselves (in a ``begin`` event),
    one trip to the connection's thread per statement (``core.sqlite_driver``)."""
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **({} if database in (None, "", ":memory:") else _SQLITE_POOL),
    )
    use_one_trip_cursors(engine)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if query_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


class ReadSessionWriteError(RuntimeError):
    """Something tried to write, or to queue work after a commit, through a read session."""


class _ReadSession(Session):
    """The synchronous session behind a read session: its flushes raise."""


@event.listens_for(_ReadSession, "before_flush")
def _refuse_flush(_session: Session, _context: Any, _instances: Any) -> None:
    raise ReadSessionWriteError("A read session does not write: use the unit of work")


#: ``session.info`` key marking a read session (its commit hooks are refused: it never commits)
READ_ONLY = "read_only"


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the read engine. Their flushes raise, as do their statements that write (the
    database refuses them): a read session asked to write is a mistake to catch at once."""
    return async_sessionmaker(
        engine, expire_on_commit=False, sync_session_class=_ReadSession, info={READ_ONLY: True}
    )


@asynccontextmanager
async def read_session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A read session: its transaction ends (rolled back: there is nothing to keep) when it closes.
    Never open one while holding a unit of work's connection: on PostgreSQL both may draw on one
    pool, and requests each holding one connection while waiting for a second can exhaust it."""
    async with sessionmaker() as session:
        yield session


def locked_in_order(id_column: Any, *where: ColumnElement[bool]) -> ScalarSelect[Any]:
    """The ids of the rows ``where`` selects, locked in id order (``FOR UPDATE`` on PostgreSQL;
    SQLite has a single writer), for a set-based ``UPDATE … WHERE id IN (…)``: every such update
    takes its rows in the same order, so two touching the same rows never deadlock."""
    return select(id_column).where(*where).order_by(id_column).with_for_update().scalar_subquery()


def before_commit(session: AsyncSession, hook: BeforeCommit) -> None:
    """Run ``hook`` inside the transaction, just before it commits (e.g. write the event log)."""
    _queue(session, "before_commit", hook)


def after_commit(session: AsyncSession, hook: AfterTransaction) -> None:
    """Run ``hook`` once the transaction has committed; dropped if it rolls back."""
    _queue(session, "after_commit", hook)


def after_rollback(session: AsyncSession, hook: AfterTransaction) -> None:
    """Run ``hook`` once the transaction has rolled back (or failed to commit); dropped if it
    commits. The transaction is over by then: the hook opens a unit of work of its own."""
    _queue(session, "after_rollback", hook)


def _queue(session: AsyncSession, when: str, hook: Any) -> None:
    if session.info.get(READ_ONLY):  # a read session never commits: the hook would be lost
        raise ReadSessionWriteError(f"A read session queues no {when} work: use the unit of work")
    session.info.setdefault(when, []).append(hook)


async def commit(session: AsyncSession) -> None:
    """Commit the unit of work, then release what it queued. Hooks may queue further hooks. A commit
    that fails is rolled back, so that the rollback's hooks run."""
    try:
        while hooks := session.info.pop("before_commit", []):
            for hook in hooks:
                await hook(session)
        await session.commit()
    except BaseException:
        await rollback(session)
        raise
    session.info.pop("after_rollback", None)
    for release in session.info.pop("after_commit", []):
        try:
            await release()
        except Exception:  # the transaction is committed; a sweeper recovers what was not released
            log.exception("after_commit_hook_failed")


async def rollback(session: AsyncSession) -> None:
    session.info.pop("before_commit", None)
    session.info.pop("after_commit", None)
    try:
        await session.rollback()
    finally:
        for hook in session.info.pop("after_rollback", []):
            try:
                await hook()
            except Exception:  # the work failed anyway; its answer must not change because of this
                log.exception("after_rollback_hook_failed")


@asynccontextmanager
async def unit_of_work(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await rollback(session)
            raise
        else:
            await commit(session)


async def release_transaction(session: AsyncSession) -> None:
    """Commit what ``session`` has done so far before waiting on another service: a transaction
    held open across a call to Meta would hold its locks meanwhile, and on SQLite the process's only
    write turn. The commit hooks wait for the unit of work's own commit; the rollback hooks are
    dropped (what they would redo is stored now). Loaded objects stay usable; the session starts a
    new transaction when it is next used."""
    if session.in_transaction():
        await session.commit()
        session.info.pop("after_rollback", None)


def dialect_insert(session: AsyncSession) -> Any:
    """The dialect's ``insert`` (it has ``on_conflict_do_nothing``/``do_update``)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def insert_new(session: AsyncSession, model: Any, **values: Any) -> str | None:
    """Insert one row with a new id unless it collides with a unique constraint (on conflict do
    nothing): the new row's id, or None when such a row existed. Safe under concurrent inserts."""
    insert = dialect_insert(session)
    stmt = insert(model).values(id=new_id(), **values).on_conflict_do_nothing().returning(model.id)
    return await session.scalar(stmt)


async def insert_new_rows(
    session: AsyncSession, model: type[M], rows: list[dict[str, Any]], *, unloaded: tuple[str, ...] = ()
) -> list[M]:
    """Insert ``rows`` (each gets a new id) except those colliding with a unique constraint (on
    conflict do nothing), in one statement; answers the rows inserted as loaded objects (no
    re-read). Every row must name the same columns. The relationships named in ``unloaded`` are not
    loaded with them (no eager load's statement: the caller sets them)."""
    if not rows:
        return []
    key = (session.get_bind().dialect.name, model, unloaded)
    stmt = _INSERT_NEW_RETURNING.get(key)
    if stmt is None:  # built once per model (ORM bulk insert mode: the values are parameters)
        stmt = _INSERT_NEW_RETURNING[key] = (
            dialect_insert(session)(model)
            .on_conflict_do_nothing()
            .returning(model)
            .options(*(lazyload(getattr(model, name)) for name in unloaded))
        )
    return list(await session.scalars(stmt, [{"id": new_id(), **row} for row in rows]))


_INSERT_NEW_RETURNING: dict[tuple[str, Any, tuple[str, ...]], Any] = {}
