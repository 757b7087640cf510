"""``ExpiringStore``: values kept for their time-to-live, in the process or in Redis."""

from __future__ import annotations

import asyncio
import uuid

from cxinbox.core.cache import ExpiringStore
from tests.fixtures.runtimes import REDIS_URL, needs_redis


async def _expires_and_replaces(store: ExpiringStore) -> None:
    key = uuid.uuid4().hex
    assert await store.get(key) is None
    await store.put(key, "first", 1)
    await store.put(key, "second", 60)
    assert await store.get(key) == "second"
    await store.put(key, "short", 1)
    await store.put(f"{key}:never", "x", 0)  # a TTL of 0 keeps nothing
    assert await store.get(f"{key}:never") is None
    await asyncio.sleep(1.2)
    assert await store.get(key) is None


async def test_in_process_values_expire_and_the_oldest_go_first():
    store = ExpiringStore(None, prefix="test", max_local_entries=3)
    await _expires_and_replaces(store)
    for name in ("a", "b", "c", "d"):
        await store.put(name, name.upper(), 60)
    assert [await store.get(n) for n in ("a", "b", "c", "d")] == [None, "B", "C", "D"]


@needs_redis
async def test_redis_values_expire_and_are_shared():
    first, second = ExpiringStore(REDIS_URL, prefix="test"), ExpiringStore(REDIS_URL, prefix="test")
    try:
        await _expires_and_replaces(first)
        key = uuid.uuid4().hex
        await first.put(key, "shared", 60)
        assert await second.get(key) == "shared"
    finally:
        await first.close()
        await second.close()
