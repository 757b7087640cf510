"""Rate limits (``limits``): in memory per process, or in Redis shared by every process.

Besides request limits (switched off by ``RATE_LIMITS=off``), the same storage paces work the
platform does itself (``acquire``, ``hold``): those always count, since a provider's limits do not
go away in a load test.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool, Redis

from cxinbox.core.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    """``spec`` in the ``limits`` notation, e.g. ``"10/15 minutes"``; ``scope`` names the counter."""

    scope: str
    spec: str

    @property
    def item(self) -> RateLimitItem:
        return parse(self.spec)

    @property
    def tiers(self) -> tuple[Limit, ...]:
        return (self,)


@dataclass(frozen=True)
class Backoff:
    """A growing wait instead of a lockout: one counter under windows of increasing length, e.g.
    ``("5/minute", "10/15 minutes", "20/hour")``. The first few uses past a tier wait out that
    tier's short window; persisting reaches the longer ones. ``Retry-After`` is the longest wait
    among the tiers that are used up."""

    scope: str
    specs: tuple[str, ...]

    @property
    def tiers(self) -> tuple[Limit, ...]:
        return tuple(Limit(self.scope, spec) for spec in self.specs)


class RateLimiter:
    def __init__(self, redis_url: str | None, *, enabled: bool = True, prefix: str = "cxinbox") -> None:
        self.enabled = enabled
        storage: Storage
        self._pool: ConnectionPool | None = None
        self._key_prefix = f"{prefix}:limits"
        if redis_url:
            # our own pool, so that closing the runtime closes the limiter's connections too
            self._pool = ConnectionPool.from_url(redis_url)
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix=self._key_prefix,
                connection_pool=self._pool,  # type: ignore[arg-type]  # passed through to redis-py
            )
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def check(self, limit: Limit | Backoff, key: str) -> None:
        """Raise 429 if ``key`` has used up ``limit``, without counting this call."""
        if not self.enabled:
            return
        used_up = [tier for tier in limit.tiers if not await self._limiter.test(tier.item, tier.scope, key)]
        await self._refuse(used_up, key)

    async def hit(self, limit: Limit | Backoff, key: str) -> None:
        """Count one use; raise 429 if it is over the limit."""
        if not self.enabled:
            return
        used_up = [tier for tier in limit.tiers if not await self._limiter.hit(tier.item, tier.scope, key)]
        await self._refuse(used_up, key)

    async def record(self, limit: Limit | Backoff, key: str) -> None:
        """Count one use without raising (e.g. a failed login, checked on the next attempt)."""
        if self.enabled:
            for tier in limit.tiers:
                await self._limiter.hit(tier.item, tier.scope, key)

    async def reset(self, limit: Limit | Backoff, key: str) -> None:
        if self.enabled:
            for tier in limit.tiers:
                await self._limiter.clear(tier.item, tier.scope, key)

    async def _refuse(self, used_up: list[Limit], key: str) -> None:
        """429 with the longest wait among ``used_up`` (nothing when it is empty)."""
        if used_up:
            raise RateLimited(max([await self._retry_after(tier, key) for tier in used_up]))

    async def acquire(self, limit: Limit, key: str, slots: int = 1) -> float:
        """Take ``slots`` slots of ``limit`` for ``key`` at once: 0.0 when taken, else the seconds
        until one frees up (none is taken then)."""
        if await self._limiter.hit(limit.item, limit.scope, key, cost=slots):
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

    async def held_of(self, scope: str, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` still held back: on Redis one pipelined round trip for them all
        (a campaign batch asks for hundreds of recipients at once)."""
        if self._pool is None:
            return {key for key in keys if await self.held_for(scope, key) > 0}
        async with Redis(connection_pool=self._pool) as redis, redis.pipeline(transaction=False) as pipe:
            for key in keys:
                # the storage's own key of ``hold``'s counter; a missing key answers -2
                pipe.pttl(f"{self._key_prefix}:hold/{scope}/{key}")
            expiries = await pipe.execute()
        return {key for key, ms in zip(keys, expiries, strict=True) if ms > 0}

    async def _retry_after(self, limit: Limit, key: str) -> int:
        stats = await self._limiter.get_window_stats(limit.item, limit.scope, key)
        return max(1, int(stats.reset_time - time.time()) + 1)
