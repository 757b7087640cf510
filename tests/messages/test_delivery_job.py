"""The delivery job of one message as it reads, claims and records: the conversation's order (read
with the send itself) and a status that overtook the send's answer."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from cxinbox.core.clock import utcnow
from cxinbox.models.inbox import MessageStatus, MessageStatusEvent
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.whatsapp.outbound import conversation_order
from cxinbox.whatsapp.outbound.delivery import Claim, deliver_message, read_due, record_outcomes, take
from tests.fixtures.factories import update_rows
from tests.fixtures.people import events_of
from tests.fixtures.sending import load_message, load_outbox, make_thread, queued_text
from tests.fixtures.whatsapp import eventually


@pytest.fixture
async def thread(runtime, graph, factory):
    return await make_thread(runtime, graph, await factory.org())


async def _deliver(runtime, outbox_id: str) -> None:
    async with runtime.unit_of_work() as session:
        await deliver_message(runtime, session, outbox_id=outbox_id)


async def test_a_send_waits_for_an_earlier_message_of_its_conversation(runtime, graph, thread):
    first, first_entry = await queued_text(runtime, thread, "first")
    second, second_entry = await queued_text(runtime, thread, "second")
    before = utcnow()
    await _deliver(runtime, second_entry.id)
    waiting = await load_outbox(runtime, second.id)
    assert waiting.state is OutboxState.QUEUED and waiting.attempts == 0
    assert waiting.next_attempt_at >= before + timedelta(seconds=conversation_order.RECHECK_SECONDS)
    assert graph.sent_by(thread.number) == []

    await _deliver(runtime, first_entry.id)
    # the second's own job, put off, sends it once the first is out
    await eventually(lambda: len(graph.sent_by(thread.number)) == 2)
    assert (await load_message(runtime, first.id)).status is MessageStatus.SENT
    assert [s["text"]["body"] for s in graph.sent_by(thread.number)] == ["first", "second"]

    async def second_sent() -> bool:
        return (await load_message(runtime, second.id)).status is MessageStatus.SENT

    await eventually(second_sent)  # recorded once the answer is back


async def test_a_message_of_another_conversation_does_not_wait(runtime, graph, thread):
    other = await make_thread(runtime, graph, thread.org, account=thread.account)
    first, _ = await queued_text(runtime, thread, "first, elsewhere")
    message, entry = await queued_text(runtime, other, "not held back")
    await _deliver(runtime, entry.id)
    assert (await load_message(runtime, message.id)).status is MessageStatus.SENT
    # the other conversation's message, due on the same number, went along
    assert (await load_message(runtime, first.id)).status is MessageStatus.SENT
    assert sorted(s["text"]["body"] for s in graph.sent_by(thread.number)) == [
        "first, elsewhere",
        "not held back",
    ]


async def test_a_burst_of_replies_goes_together_in_order_and_once(runtime, graph, thread):
    """Replies due on one number go with the first delivery job that runs, in a few statements; a
    conversation's second message waits for its first; a campaign's (template) row is left to its
    batch; the other replies' own jobs then find nothing to send."""
    threads = [thread] + [
        await make_thread(runtime, graph, thread.org, account=thread.account) for _ in range(29)
    ]
    entries = [(await queued_text(runtime, t, f"reply {i}"))[1] for i, t in enumerate(threads)]
    second, second_entry = await queued_text(runtime, thread, "reply 0, again")
    campaign_thread = await make_thread(runtime, graph, thread.org, account=thread.account)
    template, template_entry = await queued_text(runtime, campaign_thread, "a campaign's")
    await update_rows(runtime, OutboxEntry, OutboxEntry.id == template_entry.id, template_name="notice")

    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(runtime.engine.sync_engine, "before_cursor_execute", listener)
    try:
        await _deliver(runtime, entries[5].id)
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", listener)
    assert sorted(s["text"]["body"] for s in graph.sent_by(thread.number)) == sorted(
        f"reply {i}" for i in range(30)
    )
    assert len(statements) < 30 // 2  # three each, one by one
    assert (await load_outbox(runtime, second.id)).state is OutboxState.QUEUED
    assert (await load_outbox(runtime, template.id)).state is OutboxState.QUEUED
    for entry in entries:
        await _deliver(runtime, entry.id)
    await _deliver(runtime, second_entry.id)
    bodies = [s["text"]["body"] for s in graph.sent_by(thread.number)]
    assert len(bodies) == 31 and len(set(bodies)) == 31
    assert bodies.index("reply 0") < bodies.index("reply 0, again")


async def test_a_status_that_came_before_the_answer_is_folded_in(runtime, thread):
    """Meta's DELIVERED overtook the send's answer: recording the wamid does not move the message
    back to SENT, the status is applied, and one ``message.updated`` says so."""
    message, entry = await queued_text(runtime, thread, "overtaken")
    [claim] = await read_due(runtime, [entry.id])
    assert await take(runtime, [entry.id]) == {entry.id}
    wamid = f"wamid.early.{uuid.uuid4().hex}"
    async with runtime.unit_of_work() as session:
        session.add(
            MessageStatusEvent(
                organization_id=thread.org.id,
                wa_message_id=wamid,
                status="delivered",
                provider_timestamp=utcnow(),
            )
        )
    plain, plain_entry = await queued_text(runtime, thread, "answered first")
    [plain_claim] = await read_due(runtime, [plain_entry.id])
    assert await take(runtime, [plain_entry.id]) == {plain_entry.id}
    async with runtime.unit_of_work() as session:
        outcomes: list[tuple[Claim, str]] = [(claim, wamid), (plain_claim, f"wamid.plain.{uuid.uuid4().hex}")]
        await record_outcomes(session, runtime, outcomes)

    early = await load_message(runtime, message.id)
    assert (early.status, early.wa_message_id) == (MessageStatus.DELIVERED, wamid)
    assert (await load_outbox(runtime, message.id)).state is OutboxState.SENT
    assert (await load_message(runtime, plain.id)).status is MessageStatus.SENT
    async with runtime.sessionmaker() as session:
        applied = await session.scalar(
            select(MessageStatusEvent.applied_at).where(MessageStatusEvent.wa_message_id == wamid)
        )
    assert applied is not None
    updates = await events_of(runtime, thread.org.id, "message.updated")
    assert sorted((e["id"], e["status"]) for e in updates) == sorted(
        [(message.id, "DELIVERED"), (plain.id, "SENT")]
    )
    assert {e["id"]: e for e in updates}[plain.id]["waMessageId"].startswith("wamid.plain.")
