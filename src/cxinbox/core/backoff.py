"""Waiting out a dependency that is down (Redis, for the event listener and the job receiver):
exponential backoff, capped and jittered, and one log line when the outage starts and one when it
ends, however many reconnection attempts fail in between."""

from __future__ import annotations

import asyncio
import random
import time

import structlog

log = structlog.get_logger(__name__)

FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0


class Reconnecting:
    """``await failed(exc)`` after each failed attempt (it sleeps; ``noted(exc)`` only counts and
    logs, for a caller that keeps its own pace), ``recovered()`` once the dependency answers again.
    ``name`` prefixes the two log events."""

    def __init__(
        self, name: str, *, first: float = FIRST_DELAY_SECONDS, cap: float = MAX_DELAY_SECONDS
    ) -> None:
        self.name = name
        self.first = first
        self.cap = cap
        #: failed attempts in a row
        self.failures = 0
        #: outages seen (each logged once)
        self.outages = 0
        self._down_since: float | None = None

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def next_delay(self) -> float:
        """The sleep after the ``failures``-th failure in a row: first, 2×first, … up to cap, ×0.5–1."""
        return min(self.cap, self.first * 2 ** max(0, self.failures - 1)) * (0.5 + random.random() / 2)

    def noted(self, exc: BaseException) -> None:
        self.failures += 1
        if self._down_since is None:
            self._down_since = time.monotonic()
            self.outages += 1
            while isinstance(exc, BaseExceptionGroup) and exc.exceptions:  # a task group's failure
                exc = exc.exceptions[0]
            log.warning(f"{self.name}_unavailable", error_type=type(exc).__name__, error=str(exc)[:200])

    async def failed(self, exc: BaseException) -> None:
        self.noted(exc)
        await asyncio.sleep(self.next_delay())

    def recovered(self) -> None:
        if self._down_since is not None:
            log.info(
                f"{self.name}_available_again", after_seconds=round(time.monotonic() - self._down_since, 1)
            )
        self._down_since = None
        self.failures = 0
