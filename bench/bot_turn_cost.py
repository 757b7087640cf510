"""The bot's turn alone: CPU time, statements and transactions per turn, one turn after another.

Figures that hardly move with the machine's load (``bench.bot_turns`` times turns, which a loaded
machine stretches): the CPU time of this process (``time.process_time``: every thread, so SQLite's
driver threads too) while one turn runs, the statements its engines' cursors execute, the
transactions they begin and the connections taken from their pools.

First the customers write: ``--turns`` (plus ``WARM_UP``) webhooks from new customers to an
organization whose bot is on (an active config on the fake LLM, which answers at once), processed
by a runtime that runs every queue but ``llm``, so each turn is scheduled and none runs. That
runtime stops. A second one, which consumes no queue (the replies' deliveries it queues are not
run: they are not the turn), then runs each conversation's turn job (``bot.turn``) as a worker
runs it, one after another, measured one by one. The fake LLM and Graph API run in a child process
(``bench.bot_turns.Fakes``), so their CPU is not counted; the model call's loopback request is.

With ``--tools N`` the organization has ``bench.tools``' tool over a bearer connection to the
business API (``bench.tools.business_api``, in a child process too, answering at once) and the fake
LLM calls it N times in each turn before it answers: the turn's tool loop (N + 1 model calls, N tool
calls, their trace) is measured with the rest.

    .venv/bin/python -m bench.bot_turn_cost [--turns 200] [--tools N] [--statements] [--profile FILE]
        [--database-url postgresql+asyncpg://… [--redis-url redis://…]]

``--statements`` prints the statements of the last turn, in order; ``--profile FILE`` writes a
cProfile of the measured turns (its own overhead inflates the CPU figure of that run).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.fakes.llm import Reply

from bench.bot_turns import Fakes, Org, post, seed, settings_for, table, until
from bench.machine import load_average, machine
from bench.tools import add_tool, start_business_api
from cxinbox.app import create_app
from cxinbox.bot.turn import run_turn
from cxinbox.core.jobs import ALL_QUEUES, Queue
from cxinbox.core.logging import configure_logging
from cxinbox.migrations import upgrade
from cxinbox.models.bot_turns import BotTurn, TurnDecision
from cxinbox.models.inbox import Conversation, SenderType
from cxinbox.runtime import Runtime

#: turns run first and not reported: connections opened, statements compiled and cached, the
#: organization's setup kept (``bot.mind_cache``: a measured turn reads none of it, as every turn of a
#: process after the first one since the bot's last change)
WARM_UP = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL instead of a temporary SQLite file")
    parser.add_argument("--redis-url", help="Redis for the job queue and events")
    parser.add_argument("--turns", type=int, default=200, help="turns measured, one after another")
    parser.add_argument("--tools", type=int, default=0, help="tool calls the model makes in each turn")
    parser.add_argument("--statements", action="store_true", help="print the last turn's statements")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the measured turns to FILE")
    return parser.parse_args()


@dataclass
class Counter:
    """What the engines did while ``counting``: statements (with their text), transactions begun and
    pool checkouts."""

    counting: bool = False
    statements: list[str] = field(default_factory=list)
    transactions: int = 0
    checkouts: int = 0

    def watch(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine

        @event.listens_for(sync, "before_cursor_execute")
        def _statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if self.counting:
                self.statements.append(statement)

        @event.listens_for(sync, "begin")
        def _begin(_conn: Any) -> None:
            if self.counting:
                self.transactions += 1

        @event.listens_for(sync.pool, "checkout")
        def _checkout(*_: Any) -> None:
            if self.counting:
                self.checkouts += 1

    @contextmanager
    def measuring(self) -> Iterator[None]:
        self.statements, self.transactions, self.checkouts = [], 0, 0
        self.counting = True
        try:
            yield
        finally:
            self.counting = False


@dataclass
class Turn:
    cpu_ms: float
    statements: int
    transactions: int
    checkouts: int


async def customers_write(settings: Any, fakes: Fakes, count: int, tools: int, base: str | None) -> Org:
    """``count`` new customers write to an organization whose bot is on (with ``tools``, its model
    calls the tool on ``base`` that many times in each turn); their turns are scheduled and left
    unrun."""
    runtime = Runtime(settings)
    await runtime.start(workers=True, queues=[q for q in ALL_QUEUES if q is not Queue.LLM])
    app = create_app(runtime=runtime)
    app.state.runtime = runtime  # what the lifespan sets; the in-process transport runs none
    try:
        if tools and base is not None:
            lookup = Reply("", tool_call=("order_status", {"orderId": "A-1"}))
            answer = Reply("Tu pedido A-1 ya fue enviado.")
            org = await seed(runtime, fakes, bot=True, replies=([lookup] * tools + [answer]) * count)
            await add_tool(runtime, org.id, base)
        else:
            org = await seed(runtime, fakes, bot=True, replies=[])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for start in range(0, count, 50):
                await asyncio.gather(
                    *(post(client, org, time.perf_counter()) for _ in range(min(50, count - start)))
                )
        await until(runtime, org, SenderType.CUSTOMER, count)
    finally:
        await runtime.stop()
    return org


async def conversations_of(runtime: Runtime, org: Org) -> list[str]:
    async with runtime.read_session() as session:
        stmt = (
            select(Conversation.id)
            .where(Conversation.organization_id == org.id)
            .order_by(Conversation.created_at, Conversation.id)
        )
        return list((await session.scalars(stmt)).all())


async def turns(runtime: Runtime, counter: Counter, conversation_ids: list[str]) -> list[Turn]:
    """Each conversation's turn, run as a worker runs the job, measured alone."""
    measured = []
    for conversation_id in conversation_ids:
        with counter.measuring():
            started = time.process_time()
            async with runtime.unit_of_work() as session:
                await run_turn(runtime, session, conversation_id=conversation_id)
            await asyncio.sleep(0)  # what the commit released (events) runs within the turn
            cpu = time.process_time() - started
        measured.append(Turn(cpu * 1000, len(counter.statements), counter.transactions, counter.checkouts))
    return measured


async def decisions(runtime: Runtime, org: Org) -> dict[str, int]:
    async with runtime.read_session() as session:
        rows = await session.scalars(select(BotTurn.decision).where(BotTurn.organization_id == org.id))
        found: dict[str, int] = {}
        for decision in rows:
            name = decision.value if isinstance(decision, TurnDecision) else str(decision)
            found[name] = found.get(name, 0) + 1
        return found


async def run(args: argparse.Namespace, data_dir: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    fakes = Fakes()
    remote, base = start_business_api(0.0) if args.tools else (None, None)
    settings = settings_for(data_dir, args, fakes)
    try:
        await asyncio.to_thread(upgrade, settings.database_url)
        org = await customers_write(settings, fakes, args.turns + WARM_UP, args.tools, base)
        # the measuring runtime consumes no queue and looks at the schedule once an hour: nothing
        # but the turns runs in this process while they are measured
        runtime = Runtime(settings.model_copy(update={"job_poll_seconds": 3600.0}))
        await runtime.start(workers=not runtime.jobs.is_distributed, queues=())
        counter = Counter()
        # a PostgreSQL read engine is the primary's with options (its events are the primary's)
        pools = {e.sync_engine.pool: e for e in (runtime.read_engine, runtime.current_read_engine)}
        pools[runtime.engine.sync_engine.pool] = runtime.engine
        for engine in pools.values():
            counter.watch(engine)
        try:
            ids = await conversations_of(runtime, org)
            await turns(runtime, counter, ids[:WARM_UP])
            profile = cProfile.Profile(time.process_time) if args.profile else None
            if profile is not None:
                profile.enable()
            measured = await turns(runtime, counter, ids[WARM_UP:])
            if profile is not None:
                profile.disable()
                profile.dump_stats(args.profile)
            last = counter.statements
            found = await decisions(runtime, org)
        finally:
            await runtime.stop()
    finally:
        fakes.stop()
        if remote is not None:
            remote.terminate()
    return rows_of(measured, found, args.tools), last


def rows_of(measured: list[Turn], found: dict[str, int], tools: int) -> list[tuple[str, str, str]]:
    cpu = [t.cpu_ms for t in measured]
    per_turn = len(measured)

    def mean(values: list[int]) -> str:
        return f"{sum(values) / per_turn:.1f}"

    return [
        (
            "CPU per turn ms: mean / p50 / p90",
            f"{statistics.fmean(cpu):.2f} / {statistics.median(cpu):.2f} / "
            f"{sorted(cpu)[int(0.9 * per_turn)]:.2f}",
            f"{per_turn} turns one after another, the model answering at once"
            f"{f' after {tools} tool calls' if tools else ''}; this process's CPU",
        ),
        ("statements per turn", mean([t.statements for t in measured]), "cursor executions, every engine"),
        ("transactions per turn", mean([t.transactions for t in measured]), "BEGINs, every engine"),
        ("pool checkouts per turn", mean([t.checkouts for t in measured]), "connections taken from a pool"),
        (
            "turns' decisions",
            ", ".join(f"{k} {v}" for k, v in sorted(found.items())),
            f"warm-up ({WARM_UP}) included",
        ),
    ]


async def main() -> None:
    args, load = parse_args(), os.getloadavg()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="cxinbox-bench-turn-cost-") as tmp:
        rows, statements = await run(args, Path(tmp))
    print(f"{table(rows)}\n{machine()}; load average (1, 5, 15 min) before {load_average(load)}", end="")
    print(f"; after {load_average()}")
    if args.statements:
        print("\nThe last turn's statements:")
        for number, statement in enumerate(statements, 1):
            print(f"{number:3d}. {' '.join(statement.split())[:300]}")


if __name__ == "__main__":
    asyncio.run(main())
