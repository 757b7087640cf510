"""Rate limits (``limits``): in memory per process, or in Redis shared by every process.

Besides request limits (switched off by ``RATE_LIMITS=off``), the same storage paces work the
platform does itself (``acquire``, ``hold``): those always count, since a provider's limits do not
go away in a load test.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool

from cxinbox.core.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    """``spec`` in the ``limits`` notation, e.g. ``"10/15 minutes"``; ``scope`` names the counter."""

    scope: str
    spec: str

    @property
    def item(self) -> RateLimitItem:
        return parse(self.spec)


class RateLimiter:
    def __init__(self, redis_url: str | None, *, enabled: bool = True, prefix: str = "cxinbox") -> None:
        self.enabled = enabled
        storage: Storage
        self._pool: ConnectionPool | None = None
        if redis_url:
            # our own pool, so that closing the runtime closes the limiter's connections too
            self._pool = ConnectionPool.from_url(redis_url)
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix=f"{prefix}:limits",
                connection_pool=self._pool,  # type: ignore[arg-type]  # passed through to redis-py
            )
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def check(self, limit: Limit, key: str) -> None:
        """Raise 429 if ``key`` has used up ``limit``, without counting this call."""
        if not self.enabled:
            return
        if not await self._limiter.test(limit.item, limit.scope, key):
            raise RateLimited(await self._retry_after(limit, key))

    async def hit(self, limit: Limit, key: str) -> None:
        """Count one use; raise 429 if it is over the limit."""
        if not self.enabled:
            return
        if not await self._limiter.hit(limit.item, limit.scope, key):
            raise RateLimited(await self._retry_after(limit, key))

    async def record(self, limit: Limit, key: str) -> None:
        """Count one use without raising (e.g. a failed login, checked on the next attempt)."""
        if self.enabled:
            await self._limiter.hit(limit.item, limit.scope, key)

    async def reset(self, limit: Limit, key: str) -> None:
        if self.enabled:
            await self._limiter.clear(limit.item, limit.scope, key)

    async def acquire(self, limit: Limit, key: str) -> float:
        """Take one slot of ``limit`` for ``key``: 0.0 when taken, else the seconds until one frees up."""
        if await self._limiter.hit(limit.item, limit.scope, key):
            return 0.0
        stats = await self._limiter.get_window_stats(limit.item, limit.scope, key)
        return max(0.001, stats.reset_time - time.time())

    async def hold(self, scope: str, key: str, seconds: float) -> None:
        """Mark ``key`` as held back for ``seconds`` (whole seconds, at least one)."""
        await self._storage.incr(f"hold/{scope}/{key}", max(1, math.ceil(seconds)))

    async def held_for(self, scope: str, key: str) -> float:
        """Seconds ``key`` is still held back, 0.0 when it is free."""
        name = f"hold/{scope}/{key}"
        if not await self._storage.get(name):
            return 0.0
        return max(0.0, await self._storage.get_expiry(name) - time.time())

    async def _retry_after(self, limit: Limit, key: str) -> int:
        stats = await self._limiter.get_window_stats(limit.item, limit.scope, key)
        return max(1, int(stats.reset_time - time.time()) + 1)
