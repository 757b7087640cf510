"""Read sessions: reads that change nothing never wait for the write turn, refuse every write, and
go to ``database_read_url`` when it is set."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import DBAPIError

from cxinbox.app import create_app
from cxinbox.core.db import ReadSessionWriteError, after_commit
from cxinbox.core.events import publish_event
from cxinbox.models.identity import User
from cxinbox.runtime import Runtime
from tests.fixtures.api import running


@asynccontextmanager
async def write_in_progress(runtime: Runtime, user_id: str, name: str) -> AsyncIterator[asyncio.Task[None]]:
    """A unit of work that has renamed the user and stays open (holding SQLite's write turn, or the
    row's lock) until the block ends; then it commits."""
    written, finish = asyncio.Event(), asyncio.Event()

    async def write() -> None:
        async with runtime.unit_of_work() as session:
            await session.execute(update(User).where(User.id == user_id).values(name=name))
            written.set()
            await finish.wait()

    task = asyncio.create_task(write())
    await written.wait()
    try:
        yield task
    finally:
        finish.set()
        await task


async def test_a_read_session_does_not_wait_for_a_write_in_progress(runtime, factory):
    org = await factory.org()
    async with write_in_progress(runtime, org.admin.id, "Renamed") as writer:
        async with runtime.read_session() as reader:
            name = await reader.scalar(select(User.name).where(User.id == org.admin.id))
        assert not writer.done()
    assert name != "Renamed"  # the snapshot before the write's commit
    async with runtime.read_session() as reader:
        assert await reader.scalar(select(User.name).where(User.id == org.admin.id)) == "Renamed"


async def test_list_requests_answer_while_a_write_is_in_progress(runtime, client, factory):
    org = await factory.org()
    async with write_in_progress(runtime, org.admin.id, "Renamed") as writer:
        for path in ("/users", "/conversations", "/conversations/counts", "/contacts", "/tags", "/teams"):
            answer = await client.get(path, headers=org.admin.headers)
            assert answer.status_code == 200, (path, answer.text)
        assert not writer.done()
    users = await client.get("/users", headers=org.admin.headers)
    assert "Renamed" in [u["name"] for u in users.json()["data"]]


async def test_writing_through_a_read_session_fails(runtime, factory):
    org = await factory.org()
    async with runtime.read_session() as reader:
        user = await reader.get(User, org.admin.id)
        assert user is not None
        user.name = "Changed"
        with pytest.raises(ReadSessionWriteError):
            await reader.flush()
    async with runtime.read_session() as reader:
        with pytest.raises(DBAPIError):  # refused by the database itself
            await reader.execute(update(User).where(User.id == org.admin.id).values(name="Changed"))
    async with runtime.read_session() as reader:
        with pytest.raises(ReadSessionWriteError):  # queued work would be lost: it never commits
            publish_event(reader, org.id, "conversation.updated", {})
        with pytest.raises(ReadSessionWriteError):
            after_commit(reader, _nothing)
    async with runtime.read_session() as reader:
        assert await reader.scalar(select(User.name).where(User.id == org.admin.id)) != "Changed"


async def _nothing() -> None:
    pass


@asynccontextmanager
async def statements_counted(runtime: Runtime) -> AsyncIterator[dict[str, int]]:
    """How many statements each of ``runtime``'s engines runs meanwhile (an engine made with
    ``execution_options`` shares its parent's pool and events: counted by the connection's engine)."""
    engines = {
        "primary": runtime.engine.sync_engine,
        "read": runtime.read_engine.sync_engine,
        "current_read": runtime.current_read_engine.sync_engine,
    }
    counts = dict.fromkeys(engines, 0)

    def count(conn: Any, *_args: Any) -> None:
        for name, engine in engines.items():
            counts[name] += conn.engine is engine

    targets = {id(e): e for e in engines.values()}.values()
    for target in targets:
        event.listen(target, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        for target in targets:
            event.remove(target, "before_cursor_execute", count)


async def test_with_a_read_url_reads_go_to_that_engine(settings, runtime, factory):
    org = await factory.org()
    replica = Runtime(settings.model_copy(update={"database_read_url": settings.database_url}))
    try:
        assert replica.read_engine is not replica.current_read_engine
        async with statements_counted(replica) as counts, replica.read_session() as reader:
            await reader.scalar(select(User.name).where(User.id == org.admin.id))
        assert counts["read"] > 0 and counts["primary"] == counts["current_read"] == 0

        async with statements_counted(replica) as counts, running(create_app(runtime=replica)) as client:
            answer = await client.get("/conversations", headers=org.admin.headers)
        assert answer.status_code == 200, answer.text
        # the list from the replica; the token's user from the primary's database (read-only), so
        # that a change to a user (deactivated, a new role) takes effect at once
        assert counts["read"] > 0 and counts["current_read"] > 0 and counts["primary"] == 0
    finally:
        await replica.stop()
