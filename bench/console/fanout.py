"""``python -m bench.console.fanout``: the event stream's fan-out inside one server process, with no
network and no client: ``listeners`` streams of one organization (``cxinbox.realtime.service.stream``,
each consumed as the SSE response consumes it: every item encoded to bytes) and, ``updates`` times,
the two events a customer's message publishes (``message.created`` and ``conversation.updated``)
put on the in-process bus at once; timed from the publish until every stream has yielded both.
What it shows is the per-listener work of the fan-out (the event loop's time per update), the part
of a live update's delay that grows with the number of open consoles.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

from sse_starlette.event import ensure_bytes

from bench.inbox_queries.measure import migrated_runtime
from bench.machine import load_average, machine
from cxinbox.core.clock import utcnow
from cxinbox.core.events import Event
from cxinbox.realtime import service
from cxinbox.runtime import Runtime

#: what a ``conversation.updated`` carries, about the size of a real one
CONVERSATION: dict[str, Any] = {
    "id": "0" * 26,
    "status": "OPEN",
    "contact": {"id": "1" * 26, "name": "Ana Ruiz", "waId": "5215512345678", "phone": "+5215512345678"},
    "assignedTo": None,
    "team": None,
    "unreadCount": 2,
    "needsAction": True,
    "lastMessagePreview": "¿Tienen envío a Guadalajara? Quisiera saber el costo y el tiempo de entrega",
    "tags": [],
}


class Listeners:
    """``count`` streams; ``received[i]`` counts what stream ``i`` yielded."""

    def __init__(self, runtime: Runtime, organization_id: str, count: int) -> None:
        self.received = [0] * count
        self.changed = asyncio.Event()
        self._tasks = [asyncio.create_task(self._consume(runtime, organization_id, i)) for i in range(count)]

    async def _consume(self, runtime: Runtime, organization_id: str, index: int) -> None:
        stream = service.stream(runtime, organization_id, 0, lambda _event: True, asyncio.Event())
        async for item in stream:
            ensure_bytes(item, "\r\n")
            self.received[index] += 1
            self.changed.set()

    async def all_reached(self, count: int) -> None:
        while min(self.received) < count:
            self.changed.clear()
            await self.changed.wait()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def run(args: argparse.Namespace) -> None:
    _env, _data_dir, runtime = await migrated_runtime(args.database_url, prefix="cxinbox-bench-fanout-")
    await runtime.bus.start()
    organization_id = str(uuid.uuid4())  # no stored events: the streams start live at once
    listeners = Listeners(runtime, organization_id, args.listeners)
    await listeners.all_reached(1)  # each has sent its ": connected"
    took: list[float] = []
    for update in range(args.updates):
        seq = 2 * update + 1
        events = [
            Event(organization_id, "message.created", {"id": uuid.uuid4().hex}, {}, utcnow(), seq),
            Event(organization_id, "conversation.updated", CONVERSATION, {}, utcnow(), seq + 1),
        ]
        started = time.perf_counter()
        await runtime.bus.publish_all([(organization_id, event.wire()) for event in events])
        await listeners.all_reached(seq + 2)
        took.append((time.perf_counter() - started) * 1000)
    await listeners.close()
    await runtime.stop()
    ordered = sorted(took)
    print(f"\n{args.listeners} streams, {args.updates} updates (2 events each)")
    print("| fan-out of one update to every stream | p50 ms | p95 ms | per stream, p50 µs |")
    print("|---|---:|---:|---:|")
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"| in-process bus | {p50:.1f} | {p95:.1f} | {p50 * 1000 / args.listeners:.0f} |")
    print(f"\n{machine()}; load average: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console.fanout", description=__doc__)
    parser.add_argument(
        "--database-url",
        default="sqlite+aiosqlite:///./data/bench-fanout.db",
        help="a database of its own (only migrated: the streams replay nothing)",
    )
    parser.add_argument("--listeners", type=int, default=200, help="open streams (default 200)")
    parser.add_argument("--updates", type=int, default=100, help="updates published (default 100)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
