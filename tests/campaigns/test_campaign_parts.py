"""A campaign step commits its batch in parts on SQLite: a crash between two parts keeps the parts committed
(their sends go out once) and leaves the rest PENDING for the next step: every recipient is sent
exactly once, none skipped."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import event

from cxinbox.campaigns.dispatch import SQLITE_PART, batch_size
from tests.campaigns.helpers import create, phones, sends_per_number, set_tier, template, until
from tests.fixtures.inbox import make_inbox

pytestmark = pytest.mark.usefixtures("graph")


class CrashOnSecondPart:
    """Fails the step's second claim of recipients (its second part), once: the part's
    transaction never commits, as when the process dies there."""

    def __init__(self) -> None:
        self.claims = 0
        self.crashed = False
        #: how many recipients the first claim named
        self.first: int | None = None

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        # the claim answers the recipients' ids (following a status answers their campaign too)
        claim = statement.startswith("UPDATE campaign_recipients SET status") and statement.rstrip().endswith(
            ("RETURNING campaign_recipients.id", "RETURNING id")
        )
        if claim and not self.crashed:
            self.claims += 1
            if self.claims == 1:
                self.first = _ids_named(parameters)
            if self.claims == 2:
                self.crashed = True
                raise RuntimeError("the process died between two parts")


def _ids_named(parameters: Any) -> int:
    """The length of the id list bound to a claim (an array, or SQLite's JSON array)."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    for value in values:
        if isinstance(value, list):
            return len(value)
        if isinstance(value, str) and value.startswith("["):
            return len(json.loads(value))
    raise AssertionError(f"no id list in {parameters!r}")


async def test_a_crash_between_parts_sends_each_recipient_once(client, runtime, factory, graph):
    if not runtime.settings.is_sqlite:
        pytest.skip("PostgreSQL writes a step's batch at once")
    inbox = await make_inbox(client, runtime, factory, graph)
    await set_tier(runtime, inbox.account, "TIER_1K")
    assert batch_size(runtime) > SQLITE_PART  # a step's batch is more than one part
    template_id = await template(inbox, client, runtime)
    numbers = phones(batch_size(runtime) + SQLITE_PART // 2)
    crash = CrashOnSecondPart()
    event.listen(runtime.engine.sync_engine, "before_cursor_execute", crash)
    try:
        created = await create(client, inbox.admin, template_id, numbers)
        done = await until(
            client, inbox.admin, created["id"], "completed", lambda c: c["status"] == "COMPLETED"
        )
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", crash)
    assert crash.crashed and crash.first == SQLITE_PART  # the first step's first part, then its second
    assert done["counts"]["sent"] == len(numbers) and done["counts"]["failed"] == 0
    assert sends_per_number(graph, inbox.account) == {n.lstrip("+"): 1 for n in numbers}
