"""Extra runtimes next to the session's, on the same database, for tests that start and stop their
own job queue, scheduler or event bus (as another process would)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from cxinbox.config import Settings
from cxinbox.core.jobs import ALL_QUEUES, Queue
from cxinbox.runtime import Runtime

REDIS_URL = os.environ.get("CXINBOX_TEST_REDIS_URL") or None
needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="needs Redis: set CXINBOX_TEST_REDIS_URL")

#: The brokers a test can run on: in-process always, Redis when the suite has one.
BROKERS = [
    pytest.param(None, id="in-process"),
    pytest.param(REDIS_URL, id="redis", marks=needs_redis),
]


def unique_prefix() -> str:
    return f"cxinbox-test-{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def started_runtime(
    settings: Settings,
    *,
    redis_url: str | None,
    prefix: str | None = None,
    workers: bool = True,
    queues: tuple[Queue, ...] = ALL_QUEUES,
) -> AsyncIterator[Runtime]:
    runtime = Runtime(
        settings.model_copy(update={"redis_url": redis_url, "redis_prefix": prefix or unique_prefix()})
    )
    await runtime.start(workers=workers, queues=queues)
    try:
        yield runtime
    finally:
        await runtime.stop()
