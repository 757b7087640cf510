"""Sending many outbox rows of one number at its governor's pace, in few transactions (a campaign's
batch, or a burst of replies a delivery job takes along): the same rule as ``delivery`` (the claim
is committed right before the Graph call, an outcome never recorded is reconciled, never resent),
per slice instead of per message.

The rows go in slices of what the number may send in ``SLICE_SECONDS``. For each slice the governor
gives its slots (waiting for them), the batch its Graph call places (``GRAPH_CALLS_AT_ONCE``), then
one UPDATE claims the slice and commits, its Graph calls run at once, concurrently over the
kept-alive connections of the guard's lean client, and one transaction records their answers (a
few set-based statements, ``delivery.record_outcomes``). No claimed row waits for anything but its
call: a process killed mid-batch leaves claimed only the calls in flight, whose outcomes Meta's
status webhooks tell. The next slice waits for its slots while the previous one is sent and
recorded, so the number sends at its rate as long as the database keeps up; at most
``MAX_SLICES_IN_FLIGHT`` slices are unrecorded at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from itertools import groupby

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.whatsapp import GraphClient
from cxinbox.core.jobs import Queue, enqueue_later, job
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound import governor
from cxinbox.whatsapp.outbound.delivery import (
    Claim,
    Outcome,
    deliver_message,
    read_due,
    record_outcomes,
    send_claimed,
    take,
)

log = structlog.get_logger(__name__)

#: a slice is what the number may send in this many seconds, at most ``MAX_SLICE`` sends (a process
#: killed mid-slice leaves its claimed sends of unknown outcome: the fewer, the better)
SLICE_SECONDS = 0.25
MAX_SLICE = 50
MAX_SLICES_IN_FLIGHT = 4
#: Graph calls at once per batch: two slices' worth, so that the next slice is claimed while the
#: last one's calls are answered (Meta answers a send in a few hundred milliseconds: ten at once
#: carried only some 40 sends a second). A slice is claimed only once its calls have their places.
#: Calls wait for a connection in the guard's lean client (``core.outbound_bulk``), whose queue
#: costs nothing per waiting call.
GRAPH_CALLS_AT_ONCE = 2 * MAX_SLICE


class _Calls:
    """The Graph calls a batch has in flight, at most ``GRAPH_CALLS_AT_ONCE``: a slice takes its
    calls' places together, each call gives its place back when answered. Its waiters are slices (a
    few), not calls: an ``asyncio.Semaphore`` per call scans every waiting call on each acquire,
    which cost more CPU than the calls' own requests with a few slices waiting."""

    def __init__(self) -> None:
        self._free = GRAPH_CALLS_AT_ONCE
        self._changed = asyncio.Condition()

    async def take(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._free >= count)
            self._free -= count

    async def give(self, count: int = 1) -> None:
        async with self._changed:
            self._free += count
            self._changed.notify_all()


@job("whatsapp.deliver_batch", queue=Queue.BULK, attempts=1)
async def deliver_batch(runtime: Runtime, session: AsyncSession, outbox_ids: list[str]) -> None:
    """Send the due rows of ``outbox_ids``. A row it leaves (its recipient held back, the number
    throttled, the process stopped) stays QUEUED, and its own delivery job or the sweeper sends it."""
    due = await read_due(runtime, outbox_ids)
    due.sort(key=lambda c: (c.phone_number_id, c.access_token or ""))
    for _, group in groupby(due, key=lambda c: (c.phone_number_id, c.access_token or "")):
        await send_number(runtime, session, list(group))


async def send_number(runtime: Runtime, session: AsyncSession, claims: list[Claim]) -> None:
    """Send ``claims`` (due rows of one number and token, read but not claimed) slice by slice; a
    row left is given its own delivery job in ``session``'s transaction."""
    phone_number_id = claims[0].phone_number_id
    held = await governor.held_recipients(runtime, phone_number_id, [c.recipient for c in claims])
    later = [c for c in claims if c.recipient in held]
    ready = [c for c in claims if c.recipient not in held]
    rate = runtime.settings.whatsapp_send_rate_per_second
    size = max(1, min(MAX_SLICE, int(rate * SLICE_SECONDS)))
    in_flight: set[asyncio.Task[None]] = set()
    calls = _Calls()
    async with GraphClient(runtime.settings.meta, claims[0].access_token) as graph:
        try:
            for start in range(0, len(ready), size):
                part = ready[start : start + size]
                graph_calls = sum(c.calls_graph for c in part)
                if graph_calls and (
                    defer := await governor.wait_slots(runtime, phone_number_id, graph_calls)
                ):
                    later += ready[start:]
                    _put_off(session, later, defer)
                    return
                while len(in_flight) >= MAX_SLICES_IN_FLIGHT:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    in_flight = {t for t in in_flight if not t.done()}
                claimed = await _claimed(runtime, calls, part)
                in_flight.add(asyncio.create_task(_send_slice(runtime, graph, calls, claimed)))
            _put_off(session, later, 1.0)
        finally:
            # claimed slices are always sent and recorded, even when this job is cancelled
            if in_flight:
                await asyncio.shield(asyncio.gather(*in_flight, return_exceptions=True))


async def _claimed(runtime: Runtime, calls: _Calls, part: list[Claim]) -> list[Claim]:
    """The rows of ``part`` this process claims, once their Graph calls have their places: a row is
    claimed only when its call can start at once. Were the claims made first, slices claimed would
    wait for places, and a process killed meanwhile would leave them claimed and never sent
    (reported UNKNOWN, as the exactly-once rule never resends a claimed row). The places of the
    rows not won are given back."""
    await calls.take(len(part))
    try:
        taken = await take(runtime, [c.outbox_id for c in part])
    except BaseException:
        await calls.give(len(part))
        raise
    won = [c for c in part if c.outbox_id in taken]
    if len(won) < len(part):
        await calls.give(len(part) - len(won))
    return won


async def _send_slice(runtime: Runtime, graph: GraphClient, calls: _Calls, claims: Sequence[Claim]) -> None:
    """Call Graph for each of ``claims`` (their places taken), then record the answers together."""
    if not claims:
        return

    async def send(claim: Claim) -> Outcome:
        try:
            return await send_claimed(runtime, graph, claim)
        finally:
            await calls.give()

    try:
        outcomes = await asyncio.gather(*(send(c) for c in claims))
        async with runtime.unit_of_work() as session:
            await record_outcomes(session, runtime, outcomes)
    except Exception:
        # the claims stay SENDING: reconciled after their lease like any unrecorded send, never resent
        log.exception("whatsapp_batch_slice_unrecorded", count=len(claims))
        raise


def _put_off(session: AsyncSession, claims: Sequence[Claim], seconds: float) -> None:
    """Each left row's own delivery job, after ``seconds`` (still unclaimed: nothing was sent)."""
    for claim in claims:
        enqueue_later(session, deliver_message, seconds, outbox_id=claim.outbox_id)
    if claims:
        log.info("whatsapp_batch_put_off", count=len(claims), seconds=round(seconds, 1))
