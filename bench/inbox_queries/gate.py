"""Reads while slow writes hold the write gate: does the inbox's list wait for them?

In-process, no HTTP: ``readers`` tasks each run the list of ``GET /conversations`` (the service's
``list_conversations``, admin, no filter, newest first, 50 rows) again and again, while ``writers``
tasks each change a conversation's priority in a unit of work that stays open ``hold_ms`` after its
update (a slow write: on SQLite it holds the process's write gate all that time). The reads go
through a read session (what the route uses), then through a unit of work (what it used before:
its ``BEGIN IMMEDIATE`` waits for the gate like a write). Each is timed alone, then under the
writes. The writers sleep while they hold the gate, so the two cores are not what the reads wait for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from bench.inbox_queries.dataset import Bench
from bench.inbox_queries.under_writes import PRIORITIES, Phase, closed_loops
from cxinbox.auth.principal import Principal
from cxinbox.conversations import service
from cxinbox.conversations.schemas import ConversationFilter, ConversationSort
from cxinbox.models.identity import Role, User
from cxinbox.models.inbox import Conversation
from cxinbox.runtime import Runtime

PAGE = 50


async def reads_while_gate_held(
    runtime: Runtime, bench: Bench, *, readers: int, writers: int, hold_ms: float, seconds: float
) -> list[Phase]:
    principal = await _admin(runtime, bench)
    first = select(Conversation.id).where(Conversation.organization_id == bench.organization_id).limit(100)
    async with runtime.read_session() as session:
        ids = list(await session.scalars(first))
    sessions: dict[str, Callable[[], Any]] = {
        "read session": runtime.read_session,
        "unit of work (before)": runtime.unit_of_work,
    }
    phases = []
    for label, open_session in sessions.items():
        await _phase(runtime, principal, ids, open_session, "warm-up", readers, 0, hold_ms, 1)
        for count in (0, writers):
            name = f"{label}, " + (f"+ {writers} writers holding {hold_ms:.0f} ms" if count else "alone")
            phases.append(
                await _phase(runtime, principal, ids, open_session, name, readers, count, hold_ms, seconds)
            )
    return phases


async def _admin(runtime: Runtime, bench: Bench) -> Principal:
    async with runtime.read_session() as session:
        admin_id = await session.scalar(
            select(User.id).where(User.organization_id == bench.organization_id, User.role == Role.ADMIN)
        )
    return Principal(role=Role.ADMIN, organization_id=bench.organization_id, user_id=admin_id)


async def _phase(
    runtime: Runtime,
    principal: Principal,
    ids: list[str],
    open_session: Callable[[], Any],
    name: str,
    readers: int,
    writers: int,
    hold_ms: float,
    seconds: float,
) -> Phase:
    async def read() -> None:
        async with open_session() as session:
            rows, _ = await service.list_conversations(
                session, principal, ConversationFilter(), ConversationSort.NEWEST, None, PAGE
            )
        assert len(rows) == PAGE

    async def write(i: int) -> None:
        async with runtime.unit_of_work() as session:
            await session.execute(
                update(Conversation)
                .where(Conversation.id == ids[i % len(ids)])
                .values(priority=PRIORITIES[i % len(PRIORITIES)])
            )
            await asyncio.sleep(hold_ms / 1000)  # a slow write: the gate stays taken

    return await closed_loops(name, seconds, readers * [read], writers * [write])
