"""A value computed at most once per time-to-live in this process (e.g. a public statistic)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

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
