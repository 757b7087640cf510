"""The event log keeps its retention window and no more (job ``events.purge_old``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from cxinbox.core.clock import utcnow
from cxinbox.models.event_log import EventRecord
from cxinbox.realtime.tasks import purge_old_events
from cxinbox.runtime import Runtime
from tests.fixtures.events import publish, stored_events
from tests.fixtures.wait import eventually


async def publish_aged(runtime: Runtime, organization_id: str, ages_hours: list[float]) -> None:
    """One event per age, ``{"age": hours}``, stored as if it had occurred that long ago."""
    for age in ages_hours:
        await publish(runtime, organization_id, {"age": age})
    async with runtime.unit_of_work() as session:
        for seq, age in enumerate(ages_hours, start=1):
            await session.execute(
                update(EventRecord)
                .where(EventRecord.organization_id == organization_id, EventRecord.seq == seq)
                .values(occurred_at=utcnow() - timedelta(hours=age))
            )


async def remaining_ages(runtime: Runtime, organization_id: str) -> list[float]:
    return [e.data["age"] for e in await stored_events(runtime, organization_id)]


async def test_the_purge_job_deletes_events_older_than_the_retention_window(runtime, factory):
    org = await factory.org()
    window = runtime.settings.event_retention_hours
    await publish_aged(runtime, org.id, [window + 24, window + 1, window - 1, 0])

    await runtime.jobs.kick(purge_old_events.job_name)

    async def purged() -> bool:
        return await remaining_ages(runtime, org.id) == [window - 1, 0]

    await eventually(purged, "the old events were purged")


async def test_the_log_keeps_at_least_a_day_whatever_the_setting(runtime, settings, factory):
    org = await factory.org()
    short = Runtime(settings.model_copy(update={"event_retention_hours": 1, "redis_url": None}))
    try:
        await publish_aged(short, org.id, [25, 23, 2])
        async with short.unit_of_work() as session:
            await purge_old_events(short, session)
        assert await remaining_ages(short, org.id) == [23, 2]
    finally:
        await short.stop()
