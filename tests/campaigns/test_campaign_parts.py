"""A campaign step writes its batch in parts on SQLite, and commits what it did so far before a part
only when a request (a webhook's acknowledgement) waits at the write gate: the request goes before
that part (the first one too: it waits for the step's reads, not its writing), then the step goes on
before the jobs queued meanwhile. A crash in a part keeps the parts committed before it (their sends
go out once) and leaves the rest PENDING for the next step. With nobody waiting the batch is one
transaction, which a crash undoes whole. Either way every recipient is sent exactly once, none
skipped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import text

from cxinbox.campaigns.dispatch import SQLITE_PART, batch_size
from cxinbox.core.db import WritePriority, write_priority
from cxinbox.runtime import Runtime
from tests.campaigns.helpers import create, phones, sends_per_number, set_tier, template, until
from tests.fixtures.inbox import make_inbox
from tests.fixtures.statements import hearing_statements

pytestmark = pytest.mark.usefixtures("graph")


class CrashOnSecondPart:
    """Fails the step's second claim of recipients (its second part), once: the part's
    transaction never commits, as when the process dies there. With ``acknowledgement``, a request's
    write transaction starts at the first claim (``"first part"``) or as the step reads its
    recipients (``"reads"``), and waits at the write gate meanwhile, a job's transaction behind it."""

    def __init__(self, runtime: Runtime, *, acknowledgement: str | None) -> None:
        self.runtime, self.acknowledgement = runtime, acknowledgement
        self.claims = 0
        self.crashed = False
        #: how many recipients the first claim named, and the claims after the crash
        self.first: int | None = None
        self.named_after = 0
        #: what happened, in order: "claim", "acknowledged"
        self.order: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        # the claim answers the recipients' ids (following a status answers their campaign too)
        claim = statement.startswith("UPDATE campaign_recipients SET status") and statement.rstrip().endswith(
            ("RETURNING campaign_recipients.id", "RETURNING id")
        )
        # the step reading its next recipients (on the write engine: the API's lists read elsewhere)
        reads = (
            conn.engine is self.runtime.engine.sync_engine
            and statement.startswith("SELECT campaign_recipients.")
            and "ORDER BY campaign_recipients.position" in statement
        )
        if reads and self.acknowledgement == "reads" and not self.claims and not self._tasks:
            self._acknowledge_soon()
        if not claim:
            return
        if self.crashed:
            self.named_after += _ids_named(parameters)
            return
        self.claims += 1
        self.order.append("claim")
        if self.claims == 1:
            self.first = _ids_named(parameters)
            if self.acknowledgement == "first part":
                self._acknowledge_soon()
        if self.claims == 2:
            self.crashed = True
            raise RuntimeError("the process died between two parts")

    def _acknowledge_soon(self) -> None:
        """The request's transaction, and a job's right behind it: both wait for the step."""
        for work in (self._acknowledge(), self._job()):
            task = asyncio.get_running_loop().create_task(work)
            self._tasks.add(task)

    async def _acknowledge(self) -> None:
        with write_priority(WritePriority.FOREGROUND):  # as a webhook's, whoever started it
            async with self.runtime.unit_of_work() as session:
                await session.execute(text("SELECT 1"))
                self.order.append("acknowledged")

    async def _job(self) -> None:
        with write_priority(WritePriority.BACKGROUND):
            async with self.runtime.unit_of_work() as session:
                await session.execute(text("SELECT 1"))
                self.order.append("job")


def _ids_named(parameters: Any) -> int:
    """The length of the id list bound to a claim (an array, or SQLite's JSON array)."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    for value in values:
        if isinstance(value, list):
            return len(value)
        if isinstance(value, str) and value.startswith("["):
            return len(json.loads(value))
    raise AssertionError(f"no id list in {parameters!r}")


@pytest.mark.parametrize(
    "acknowledgement",
    ["first part", "reads", None],
    ids=["a request waits after the first part", "a request waits before it", "nobody waits"],
)
async def test_a_crash_between_parts_sends_each_recipient_once(
    client, runtime, factory, graph, acknowledgement
):
    if not runtime.settings.is_sqlite:
        pytest.skip("PostgreSQL writes a step's batch at once")
    inbox = await make_inbox(client, runtime, factory, graph)
    await set_tier(runtime, inbox.account, "TIER_1K")
    assert batch_size(runtime) > SQLITE_PART  # a step's batch is more than one part
    template_id = await template(inbox, client, runtime)
    numbers = phones(batch_size(runtime) + SQLITE_PART // 2)
    crash = CrashOnSecondPart(runtime, acknowledgement=acknowledgement)
    with hearing_statements(runtime, crash):
        created = await create(client, inbox.admin, template_id, numbers)
        done = await until(
            client, inbox.admin, created["id"], "completed", lambda c: c["status"] == "COMPLETED"
        )
    assert crash.crashed and crash.first == SQLITE_PART  # the first step's first part, then its second
    if acknowledgement == "first part":
        # the request went between the parts, and the step took the gate again before the job
        # queued meanwhile; the first part stayed committed, the rest was claimed after the crash
        assert crash.order == ["claim", "acknowledged", "claim", "job"]
        assert crash.named_after == len(numbers) - SQLITE_PART
    elif acknowledgement == "reads":
        # the request went before the first part (the step's reads committed); nobody waited at the
        # second, so the crash undid both parts
        assert crash.order == ["acknowledged", "claim", "claim", "job"]
        assert crash.named_after == len(numbers)
    else:
        # one transaction: the crash undid the first part too
        assert crash.order == ["claim", "claim"]
        assert crash.named_after == len(numbers)
    assert done["counts"]["sent"] == len(numbers) and done["counts"]["failed"] == 0
    assert sends_per_number(graph, inbox.account) == {n.lstrip("+"): 1 for n in numbers}
