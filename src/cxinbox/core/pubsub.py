"""Event fan-out port: in-process by default, Redis pub/sub when configured.

Each process keeps one local hub of subscribers per organization. With Redis, publishing goes to
Redis only and one listener per process (started with its first subscriber) feeds the local hub, so
every process's subscribers see every event exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from cxinbox.core.backoff import Reconnecting

SUBSCRIBER_BUFFER = 1000


class Subscription:
    """A bounded queue of one listener. A listener that falls behind is cut off (``lagged``) rather
    than slowing everyone: it reconnects and replays from the durable log."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self.lagged = asyncio.Event()

    def offer(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.lagged.set()


class LocalHub:
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)

    def subscribers(self, organization_id: str) -> int:
        """How many listeners of ``organization_id`` this process has."""
        return len(self._subs.get(organization_id, ()))

    def deliver(self, organization_id: str, message: dict[str, Any]) -> None:
        for sub in list(self._subs.get(organization_id, ())):
            sub.offer(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, organization_id: str) -> AsyncIterator[Subscription]:
        sub = Subscription()
        self._subs[organization_id].add(sub)
        try:
            yield sub
        finally:
            self._subs[organization_id].discard(sub)
            if not self._subs[organization_id]:
                del self._subs[organization_id]


class InProcessBus:
    def __init__(self) -> None:
        self.hub = LocalHub()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish_all(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish ``(organization_id, message)`` pairs in order."""
        for organization_id, message in messages:
            self.hub.deliver(organization_id, message)

    def subscribe(self, organization_id: str) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self.hub.subscribe(organization_id)

    async def ping(self) -> None:
        return None


class RedisBus(InProcessBus):
    def __init__(self, redis_url: str, prefix: str) -> None:
        super().__init__()
        self._channel_prefix = f"{prefix}:events:"
        from redis.asyncio import Redis

        self._redis = Redis.from_url(redis_url)
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        #: the listener's connection to Redis
        self.connection = Reconnecting("redis_bus_listener")

    async def start(self) -> None:
        await self._redis.ping()

    @contextlib.asynccontextmanager
    async def subscribe(self, organization_id: str) -> AsyncIterator[Subscription]:
        """The process listens to Redis from its first subscriber on (a worker process, which has
        none, never reads the events back); a subscription is only handed out once the listener
        receives."""
        self.listen_in_background()
        await asyncio.wait_for(self._ready.wait(), timeout=10)
        async with self.hub.subscribe(organization_id) as sub:
            yield sub

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._redis.aclose()

    async def publish_all(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """One Redis message per organization, carrying its messages in order, all in one round
        trip."""
        by_org: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for organization_id, message in messages:
            by_org[organization_id].append(message)
        async with self._redis.pipeline(transaction=False) as pipe:
            for organization_id, batch in by_org.items():
                pipe.publish(self._channel_prefix + organization_id, json.dumps(batch))
            await pipe.execute()

    async def ping(self) -> None:
        await self._redis.ping()

    def listen_in_background(self) -> None:
        """Start feeding the local hub from Redis (once)."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        """Feed the local hub from Redis; while Redis is down, reconnect with capped exponential
        backoff (one log line per outage, not one per attempt)."""
        reconnecting = self.connection
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.psubscribe(self._channel_prefix + "*")
                    self._ready.set()
                    reconnecting.recovered()
                    async for item in pubsub.listen():
                        if item.get("type") != "pmessage":
                            continue
                        organization_id = item["channel"].decode()[len(self._channel_prefix) :]
                        if self.hub.subscribers(organization_id):  # else nobody here reads it
                            for message in json.loads(item["data"]):
                                self.hub.deliver(organization_id, message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await reconnecting.failed(exc)


EventBus = InProcessBus


def create_bus(redis_url: str | None, prefix: str = "cxinbox") -> EventBus:
    return RedisBus(redis_url, prefix) if redis_url else InProcessBus()
