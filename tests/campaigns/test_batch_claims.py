"""A campaign's batch claims a slice of sends only once their Graph calls have their places: a claimed
row's call starts at once. A process killed mid-batch then leaves claimed (of unknown outcome, never
resent) only the calls that were in flight, whose outcome Meta's status webhooks tell, not slices
that were claimed and still waiting for places."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any

import pytest

from cxinbox.whatsapp.inbound.unrecorded_sends import callback_key
from cxinbox.whatsapp.outbound.batch_delivery import GRAPH_CALLS_AT_ONCE
from tests.campaigns.helpers import create, phones, sends_per_number, set_tier, template, until
from tests.fixtures.inbox import make_inbox
from tests.fixtures.statements import hearing_statements

pytestmark = pytest.mark.usefixtures("graph")

#: Meta's answer to a send takes this long: more calls are wanted at once than a batch has places
SEND_DELAY = 3.0


class Arrivals(list[dict[str, Any]]):
    """The fake's send attempts, each arrival's time kept by its callback key."""

    def __init__(self, attempts: Iterable[dict[str, Any]]) -> None:
        super().__init__(attempts)
        self.at: dict[str, float] = {}
        self._lock = threading.Lock()

    def append(self, attempt: dict[str, Any]) -> None:
        with self._lock:
            self.at.setdefault(str(attempt.get("biz_opaque_callback_data")), time.monotonic())
        super().append(attempt)


class Claims:
    """When each outbox row was claimed (the claim's UPDATE, committed before any call)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.startswith("UPDATE message_outbox SET state") and "locked_until" in statement:
            now = time.monotonic()
            for outbox_id in _ids(parameters):
                self.at.setdefault(outbox_id, now)


def _ids(parameters: Any) -> list[str]:
    """The id list bound to a claim (an array, or SQLite's JSON array)."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    for value in values:
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, str) and value.startswith("["):
            return [str(v) for v in json.loads(value)]
    return []


async def test_a_claimed_send_is_called_at_once_not_after_waiting_for_a_place(
    client, runtime, factory, graph
):
    inbox = await make_inbox(client, runtime, factory, graph)
    await set_tier(runtime, inbox.account, "TIER_1K")
    template_id = await template(inbox, client, runtime)
    numbers = phones(GRAPH_CALLS_AT_ONCE + 20)  # a slice more than the calls a batch makes at once
    assert runtime.settings.whatsapp_send_rate_per_second * SEND_DELAY > len(numbers)
    claims, attempts = Claims(), graph.state.send_attempts
    graph.state.send_attempts = arrivals = Arrivals(attempts)
    graph.state.send_delay = SEND_DELAY
    try:
        with hearing_statements(runtime, claims):
            created = await create(client, inbox.admin, template_id, numbers)
            done = await until(
                client, inbox.admin, created["id"], "completed", lambda c: c["status"] == "COMPLETED"
            )
    finally:
        graph.state.send_attempts = list(arrivals)
    assert done["counts"]["sent"] == len(numbers)
    assert sends_per_number(graph, inbox.account) == {n.lstrip("+"): 1 for n in numbers}
    waits = {
        i: arrivals.at[callback_key(i)] - at for i, at in claims.at.items() if callback_key(i) in arrivals.at
    }
    assert len(waits) == len(numbers)
    # claimed first, a slice would wait for the places of the calls before it: a whole answer's time
    # (the first calls also open their connections: some hundreds of milliseconds on a busy machine)
    assert max(waits.values()) < SEND_DELAY / 2, sorted(waits.values())[-5:]
