"""Crash sweep: the serving and working processes are killed with SIGKILL while signed webhooks
stream in with Meta-style redeliveries; every acknowledged message ends up stored once, in order.

The sweep itself (real ``cxinbox serve`` / ``cxinbox worker`` processes, the sender, the kills, the
checks) is ``bench/crash.py``; here it runs a small count. It uses the suite's database server
(``CXINBOX_TEST_DATABASE_URL``: a database of its own is created there and dropped) and Redis
(``CXINBOX_TEST_REDIS_URL``: then the API process and a worker process are killed in turns), else
SQLite in a temporary directory with one process.
"""

from __future__ import annotations

import os
import random

import httpx
from bench.crash import (
    CrashConfig,
    build_bodies,
    connect_number,
    fleet_running,
    register_organization,
    run_crash,
    stored_messages,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from cxinbox.models.whatsapp import WebhookEvent
from tests.fixtures.wait import eventually

DATABASE_URL = os.environ.get("CXINBOX_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("CXINBOX_TEST_REDIS_URL")
MESSAGES = 400


async def test_every_acknowledged_message_is_stored_once_and_in_order_across_kill_9():
    # two kills at random points of the stream (with a worker: the API process and the worker),
    # then every process once more after the last acknowledgement
    config = CrashConfig(count=MESSAGES, contacts=4, kills=2, rate=100.0, settle_seconds=60.0, seed=9)
    report = await run_crash(config, DATABASE_URL, REDIS_URL)
    print(table(report))
    assert len(report.kills) == config.kills
    assert report.refused > 0, "the sender saw the server die"
    assert report.redelivered > 0 and report.retried > 0
    # the sender retries until it gets a 200, as Meta does: everything is acknowledged in the end
    assert report.acknowledged == MESSAGES
    assert report.stored == MESSAGES
    assert report.missing == 0
    assert report.duplicates == 0
    assert report.out_of_order == 0
    assert report.split_conversations == 0
    assert report.unprocessed_events == 0


async def test_a_body_acknowledged_before_a_crash_is_processed_after_the_restart_alone():
    """The process that stored a body asks for its processing in memory (or through the job queue);
    killed before it processed it, that request is gone. Restarted, with no webhook following, the
    processes still process it (not a minute or more later, when the sweeper would)."""
    async with fleet_running(DATABASE_URL, REDIS_URL) as (fleet, graph):
        async with httpx.AsyncClient(base_url=fleet.url, timeout=60.0) as client:
            headers = await register_organization(client)
            number = await connect_number(client, headers, graph)
        [body], order = build_bodies(number, CrashConfig(count=1, contacts=1), random.Random(1))
        for name in fleet.names:
            fleet.kill(name)
        engine = create_async_engine(fleet.backend.database_url)
        async with AsyncSession(engine) as session, session.begin():  # as the killed process left it
            session.add(WebhookEvent(body=body.raw, phone_number_id=number, signature_scope=[number]))
        await engine.dispose()
        await fleet.start_all()

        async def stored() -> bool:
            return len(await stored_messages(fleet.backend.database_url, order)) == 1

        await eventually(stored, "the body stored before the crash is processed")
