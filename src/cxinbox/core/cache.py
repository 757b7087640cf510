"""A value computed at most once per time-to-live in this process (e.g. a public statistic)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class TimedValue(Generic[T]):
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._value: T | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self, compute: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or ``compute()`` when it is missing or older than the time-to-live.
        Concurrent callers of an expired value wait for one computation."""
        async with self._lock:
            if self._value is None or time.monotonic() >= self._expires_at:
                self._value = await compute()
                self._expires_at = time.monotonic() + self.ttl_seconds
            return self._value


class ExpiringStore:
    """Short-lived strings by key: in Redis when it is configured (shared by every process), else in
    this process (at most ``max_local_entries``, the oldest dropped first)."""

    def __init__(self, redis_url: str | None, *, prefix: str, max_local_entries: int = 10_000) -> None:
        self._prefix = f"{prefix}:cache:"
        self._redis: Any = None
        if redis_url:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(redis_url)
        self._local: dict[str, tuple[float, str]] = {}
        self._max_local = max_local_entries

    async def get(self, key: str) -> str | None:
        if self._redis is not None:
            value = await self._redis.get(self._prefix + key)
            return value.decode() if value is not None else None
        found = self._local.get(key)
        if found is None or found[0] <= time.monotonic():
            self._local.pop(key, None)
            return None
        return found[1]

    async def put(self, key: str, value: str, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            return
        if self._redis is not None:
            await self._redis.set(self._prefix + key, value, ex=ttl_seconds)
            return
        self._local.pop(key, None)
        if len(self._local) >= self._max_local:
            now = time.monotonic()
            self._local = {k: v for k, v in self._local.items() if v[0] > now}
            while len(self._local) >= self._max_local:
                self._local.pop(next(iter(self._local)))
        self._local[key] = (time.monotonic() + ttl_seconds, value)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
