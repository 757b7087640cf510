"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive connections, pre-built
requests), so that the client spends as little CPU as possible on a machine it shares with the
server it measures."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / max(1e-9, self.finished - self.started)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, raw: bytes) -> int:
        """Send one pre-built request; answers the status (the body is read and dropped)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status


async def connect(host: str, port: int, count: int) -> list[Connection]:
    return [Connection(*await asyncio.open_connection(host, port)) for _ in range(count)]


def build_request(
    method: str, host: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def open_loop(connections: list[Connection], requests: list[bytes], rate: float) -> Results:
    """Send ``requests`` at ``rate`` per second whatever the answers' pace (open loop). Latency runs
    from each request's scheduled time, so a server that falls behind shows it (no coordinated
    omission)."""
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for conn in connections:
        free.put_nowait(conn)
    results = Results(started=time.perf_counter())
    pending: set[asyncio.Task[None]] = set()

    async def one(raw: bytes, scheduled: float) -> None:
        conn = await free.get()
        try:
            status = await conn.request(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            results.errors += 1
            return
        free.put_nowait(conn)
        if status == 200:
            results.latencies.append(time.perf_counter() - scheduled)
        else:
            results.errors += 1

    for i, raw in enumerate(requests):
        scheduled = results.started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(raw, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    results.finished = time.perf_counter()
    return results


async def closed_loop(connections: list[Connection], raw: bytes, seconds: float) -> Results:
    """Each connection sends ``raw`` again as soon as it has its answer, for ``seconds``."""
    results = Results(started=time.perf_counter())
    deadline = results.started + seconds

    async def worker(conn: Connection) -> None:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            if await conn.request(raw) == 200:
                results.latencies.append(time.perf_counter() - sent)
            else:
                results.errors += 1

    await asyncio.gather(*(worker(conn) for conn in connections))
    results.finished = time.perf_counter()
    return results
