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

from bench.crash import CrashConfig, run_crash, table

MESSAGES = 400


async def test_every_acknowledged_message_is_stored_once_and_in_order_across_kill_9():
    config = CrashConfig(count=MESSAGES, contacts=4, kills=3, rate=100.0, seed=9)
    report = await run_crash(
        config, os.environ.get("CXINBOX_TEST_DATABASE_URL"), os.environ.get("CXINBOX_TEST_REDIS_URL")
    )
    print(table(report))
    assert len(report.kills) == config.kills
    assert report.refused > 0, "the kills were seen by the sender"
    assert report.redelivered > 0 and report.retried > 0
    # the sender retries until it gets a 200, as Meta does: everything is acknowledged in the end
    assert report.acknowledged == MESSAGES
    assert report.stored == MESSAGES
    assert report.missing == 0
    assert report.duplicates == 0
    assert report.out_of_order == 0
    assert report.split_conversations == 0
    assert report.unprocessed_events == 0
