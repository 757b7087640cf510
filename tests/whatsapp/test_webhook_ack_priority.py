"""On SQLite a webhook's acknowledgement takes the process's write gate before the jobs' queued
transactions (a campaign's batches, the drains): it waits for the one transaction in progress, not
for the queue behind it. Ordering, not timing: the gate is held, jobs queue, the webhook arrives,
the gate is released, and the order in which they took it is compared."""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar

import pytest
from sqlalchemy import event, select, text

from cxinbox.core.db import WritePriority, write_gate_of, write_priority
from cxinbox.models.whatsapp import WebhookEvent
from tests.fixtures.whatsapp import post_webhook, unique_number

#: which of this test's transactions took the gate (unset: someone else's)
LABEL: ContextVar[str | None] = ContextVar("label", default=None)


def body_for(number: str) -> bytes:
    change = {"field": "messages", "value": {"metadata": {"phone_number_id": number}}}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": unique_number(), "changes": [change]}]}
    ).encode()


async def test_an_acknowledgement_takes_the_write_gate_before_queued_background_writes(client, runtime):
    gate = write_gate_of(runtime.engine)
    if gate is None:
        pytest.skip("a server database has no write gate")
    taken: list[str] = []

    def note(_conn: object) -> None:
        if (label := LABEL.get()) is not None:
            taken.append(label)

    held, release = asyncio.Event(), asyncio.Event()

    async def job(name: str, *, hold: bool = False) -> None:
        LABEL.set(name)
        with write_priority(WritePriority.BACKGROUND):
            async with runtime.unit_of_work() as session:
                await session.execute(text("SELECT 1"))
                if hold:
                    held.set()
                    await release.wait()

    async def queued(name: str) -> asyncio.Task[None]:
        waiting = gate.waiting(WritePriority.BACKGROUND)
        task = asyncio.create_task(job(name))
        while gate.waiting(WritePriority.BACKGROUND) <= waiting:
            await asyncio.sleep(0)
        return task

    event.listen(runtime.engine.sync_engine, "begin", note)
    try:
        holder = asyncio.create_task(job("holder", hold=True))
        await held.wait()
        jobs = [await queued(f"job {n}") for n in range(3)]
        LABEL.set("webhook")
        ack = asyncio.create_task(post_webhook(client, body_for(unique_number())))
        while gate.waiting(WritePriority.FOREGROUND) == 0:
            assert not ack.done()
            await asyncio.sleep(0)
        release.set()
        answer = await ack
        await asyncio.gather(holder, *jobs)
    finally:
        event.remove(runtime.engine.sync_engine, "begin", note)
    assert answer.status_code == 200, answer.text
    assert taken == ["holder", "webhook", "job 0", "job 1", "job 2"]
    async with runtime.read_session(current=True) as session:  # answered once stored
        assert await session.scalar(
            select(WebhookEvent.id).where(WebhookEvent.id == answer.json()["data"]["id"])
        )
