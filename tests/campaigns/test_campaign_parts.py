"""A campaign step writes its batch in parts on SQLite, and commits a part before the next only when a
request (a webhook's acknowledgement) waits at the write gate: the request goes before the next part,
and a crash in that part keeps the parts committed (their sends go out once) and leaves the rest
PENDING for the next step. With nobody waiting the batch is one transaction, which a crash undoes
whole. Either way every recipient is sent exactly once, none skipped."""

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
    write transaction starts at the first claim and waits at the write gate meanwhile."""

    def __init__(self, runtime: Runtime, *, acknowledgement: bool) -> None:
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
        if not claim:
            return
        if self.crashed:
            self.named_after += _ids_named(parameters)
            return
        self.claims += 1
        self.order.append("claim")
        if self.claims == 1:
            self.first = _ids_named(parameters)
            if self.acknowledgement:
                task = asyncio.get_running_loop().create_task(self._acknowledge())
                self._tasks.add(task)
        if self.claims == 2:
            self.crashed = True
            raise RuntimeError("the process died between two parts")

    async def _acknowledge(self) -> None:
        with write_priority(WritePriority.FOREGROUND):  # as a webhook's, whoever started it
            async with self.runtime.unit_of_work() as session:
                await session.execute(text("SELECT 1"))
                self.order.append("acknowledged")


def _ids_named(parameters: Any) -> int:
    """The length of the id list bound to a claim (an array, or SQLite's JSON array)."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    for value in values:
        if isinstance(value, list):
            return len(value)
        if isinstance(value, str) and value.startswith("["):
            return len(json.loads(value))
    raise AssertionError(f"no id list in {parameters!r}")


@pytest.mark.parametrize("acknowledgement", [True, False], ids=["a request waits", "nobody waits"])
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
    if acknowledgement:
        # the request went between the parts; the first part stayed committed, the rest was claimed
        # after the crash
        assert crash.order == ["claim", "acknowledged", "claim"]
        assert crash.named_after == len(numbers) - SQLITE_PART
    else:
        # one transaction: the crash undid the first part too
        assert crash.order == ["claim", "claim"]
        assert crash.named_after == len(numbers)
    assert done["counts"]["sent"] == len(numbers) and done["counts"]["failed"] == 0
    assert sends_per_number(graph, inbox.account) == {n.lstrip("+"): 1 for n in numbers}
