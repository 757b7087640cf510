"""Sending: the outbox pipeline through the fake Graph API, its failures, the 24-hour window,
idempotent retries and the sweeper."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cxinbox.core.clock import utcnow
from cxinbox.models.identity import Role
from cxinbox.models.inbox import Direction, Message, MessageStatus
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import AccountStatus, WhatsAppAccount
from cxinbox.whatsapp.inbound.unrecorded_sends import callback_key
from cxinbox.whatsapp.outbound import governor
from cxinbox.whatsapp.outbound.delivery import sweep_outbox
from tests.fixtures.people import api_key_headers, error_code, events_of
from tests.fixtures.sending import (
    failed_send,
    load_message,
    load_outbox,
    make_thread,
    queued_text,
    send_text,
    status_webhook,
    until_status,
)
from tests.fixtures.whatsapp import deliver, eventually


async def test_send_goes_out_and_status_webhooks_move_it_forward(client, runtime, graph, thread):
    r = await send_text(client, thread, "Your order ships today")
    assert r.status_code == 201, r.text
    sent = r.json()["data"]
    assert (sent["status"], sent["direction"], sent["senderType"]) == ("PENDING", "OUTBOUND", "AGENT")
    assert sent["senderUserId"] == thread.org.admin.id and sent["text"] == "Your order ships today"

    message = await until_status(runtime, sent["id"], MessageStatus.SENT)
    [request] = graph.sent_by(thread.number)
    assert request["to"] == thread.contact.wa_id
    assert request["text"] == {"body": "Your order ships today", "preview_url": False}
    assert (request["messaging_product"], request["recipient_type"]) == ("whatsapp", "individual")
    assert message.wa_message_id and message.wa_message_id.startswith("wamid.")

    await deliver(client, runtime, status_webhook(thread.number, message.wa_message_id, "delivered"))
    assert (await load_message(runtime, sent["id"])).status == MessageStatus.DELIVERED
    await deliver(client, runtime, status_webhook(thread.number, message.wa_message_id, "read"))
    assert (await load_message(runtime, sent["id"])).status == MessageStatus.READ

    updates = [e["status"] for e in await events_of(runtime, thread.org.id, "message.updated")]
    assert updates == ["SENT", "DELIVERED", "READ"]
    [created] = await events_of(runtime, thread.org.id, "message.created")
    assert created["id"] == sent["id"]
    [conversation] = await events_of(runtime, thread.org.id, "conversation.updated")
    assert conversation["lastMessagePreview"] == "Your order ships today"
    assert conversation["needsAction"] is False


async def test_reply_carries_the_context(client, runtime, graph, thread):
    r = await send_text(client, thread, "Answering that", replyToMessageId=thread.inbound.id)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["replyToWaMessageId"] == thread.inbound.wa_message_id
    await until_status(runtime, r.json()["data"]["id"], MessageStatus.SENT)
    [request] = graph.sent_by(thread.number)
    assert request["context"] == {"message_id": thread.inbound.wa_message_id}


async def test_reply_to_a_message_elsewhere_is_a_validation_error(client, runtime, graph, thread, factory):
    other = await make_thread(runtime, graph, thread.org, account=thread.account)
    r = await send_text(client, thread, replyToMessageId=other.inbound.id)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert r.json()["error"]["details"][0]["field"] == "replyToMessageId"


@pytest.mark.parametrize("last_inbound", [timedelta(hours=24, minutes=1), None])
async def test_outside_the_window_answers_409_and_sends_nothing(
    client, runtime, graph, factory, last_inbound
):
    thread = await make_thread(runtime, graph, await factory.org(), last_inbound=last_inbound)
    r = await send_text(client, thread)
    assert r.status_code == 409 and error_code(r) == "WINDOW_CLOSED"
    assert graph.attempts_by(thread.number) == []
    async with runtime.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).where(
                Message.conversation_id == thread.id, Message.direction == Direction.OUTBOUND
            )
        )
    assert count == 0


async def test_retryable_errors_retry_with_backoff_then_succeed(client, runtime, graph, thread):
    graph.fail_next_sends(thread.number, (429, 130429, None), (503, 131000, None), (500, 1, None))
    r = await send_text(client, thread)
    message = await until_status(runtime, r.json()["data"]["id"], MessageStatus.SENT)
    assert len(graph.attempts_by(thread.number)) == 4
    entry = await load_outbox(runtime, message.id)
    assert (entry.state, entry.attempts, entry.last_error) == (OutboxState.SENT, 4, None)
    assert message.error is None


@pytest.mark.parametrize("code", [131047, 131026, 132001, 132015, 100, 131008])
async def test_permanent_errors_fail_at_once_with_the_error_kept(client, runtime, graph, thread, code):
    message_id = await failed_send(client, runtime, graph, thread, code)
    message = await load_message(runtime, message_id)
    assert message.error["code"] == code and message.error["message"]
    assert len(graph.attempts_by(thread.number)) == 1
    entry = await load_outbox(runtime, message_id)
    assert (entry.state, entry.permanent, entry.attempts) == (OutboxState.FAILED, True, 1)
    failed = [
        e for e in await events_of(runtime, thread.org.id, "message.updated") if e["status"] == "FAILED"
    ]
    assert failed[0]["error"]["code"] == code


async def test_an_invalid_token_fails_the_message_and_marks_the_account(client, runtime, graph, thread):
    message_id = await failed_send(client, runtime, graph, thread, 190)
    assert (await load_message(runtime, message_id)).error["code"] == 190
    async with runtime.sessionmaker() as session:
        account = await session.get_one(WhatsAppAccount, thread.account.id)
    assert account.status == AccountStatus.TOKEN_INVALID


async def test_retries_end_in_failed_after_the_last_attempt(client, runtime, graph, thread):
    graph.fail_next_sends(thread.number, *[(500, 131000, None)] * 8)
    r = await send_text(client, thread)
    message = await until_status(runtime, r.json()["data"]["id"], MessageStatus.FAILED)
    assert message.error["code"] == 131000
    entry = await load_outbox(runtime, message.id)
    assert (entry.attempts, entry.permanent) == (8, False)
    assert len(graph.attempts_by(thread.number)) == 8


async def test_pair_rate_limit_holds_back_the_recipient(client, runtime, graph, thread):
    graph.fail_next_sends(thread.number, (400, 131056, None))
    first = (await send_text(client, thread, "first")).json()["data"]["id"]

    async def retry_scheduled() -> OutboxEntry | None:
        entry = await load_outbox(runtime, first)
        return entry if entry.attempts == 1 and entry.state == OutboxState.QUEUED else None

    entry = await eventually(retry_scheduled)
    assert entry.next_attempt_at - utcnow() > timedelta(seconds=4)
    assert await runtime.limiter.held_for(governor.PAIR_SCOPE, f"{thread.number}:{thread.contact.wa_id}") > 0
    # a batch asks for all its recipients at once (on Redis, one pipelined round trip)
    others = ["15550001111", "15550002222"]
    held = await governor.held_recipients(runtime, thread.number, [*others, thread.contact.wa_id])
    assert held == {thread.contact.wa_id}

    second = (await send_text(client, thread, "second")).json()["data"]["id"]

    async def put_off() -> OutboxEntry | None:
        entry = await load_outbox(runtime, second)
        return entry if entry.state == OutboxState.QUEUED and entry.next_attempt_at > utcnow() else None

    assert (await eventually(put_off)).attempts == 0
    assert len(graph.attempts_by(thread.number)) == 1


async def test_the_number_rate_governor_counts_sends(runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "whatsapp_send_rate_per_second", 2)
    number = f"governed-{utcnow().timestamp()}"
    assert await governor.wait_turn(runtime, number, "a") == 0.0
    assert await governor.wait_turn(runtime, number, "b") == 0.0
    limit = governor.Limit(governor.NUMBER_SCOPE, "2/second")
    assert await runtime.limiter.acquire(limit, number) > 0


async def test_same_idempotency_key_replays_the_first_answer(client, runtime, graph, thread):
    headers = {"Idempotency-Key": "send-123"}
    first = await send_text(client, thread, "Only once", headers=headers)
    await until_status(runtime, first.json()["data"]["id"], MessageStatus.SENT)
    again = await send_text(client, thread, "Only once", headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(graph.attempts_by(thread.number)) == 1

    other = await send_text(client, thread, "Something else", headers=headers)
    assert other.status_code == 409 and error_code(other) == "IDEMPOTENCY_KEY_REUSED"


async def test_concurrent_requests_with_one_key_send_once(client, runtime, graph, thread):
    headers = {"Idempotency-Key": "burst-1"}
    answers = await asyncio.gather(*[send_text(client, thread, "Once", headers=headers) for _ in range(5)])
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["data"]["id"] for r in answers}) == 1
    await until_status(runtime, answers[0].json()["data"]["id"], MessageStatus.SENT)
    await runtime.jobs.wait_idle()
    assert len(graph.attempts_by(thread.number)) == 1


async def test_idempotency_keys_are_scoped_to_the_organization(client, runtime, graph, thread, factory):
    other = await make_thread(runtime, graph, await factory.org())
    headers = {"Idempotency-Key": "shared-key"}
    a = await send_text(client, thread, "Same", headers=headers)
    b = await send_text(client, other, "Same", headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json()["data"]["id"] != b.json()["data"]["id"]
    assert "Idempotent-Replayed" not in b.headers


async def test_the_sweeper_sends_a_row_left_behind_but_never_a_claimed_one_again(runtime, graph, thread):
    """A crash between commit and the job leaves a due row: the sweeper sends it. A crash after the
    claim (committed right before the Graph call) leaves a row whose send may have reached Meta:
    the sweeper never sends it again."""
    long_ago = utcnow() - timedelta(minutes=2)
    message, _ = await queued_text(runtime, thread, "left behind", due=long_ago)
    stale_claim, _ = await queued_text(
        runtime,
        thread,
        "claimed by a worker that died",
        state=OutboxState.SENDING,
        due=long_ago,
        locked_until=long_ago,
    )
    async with runtime.unit_of_work() as session:
        await sweep_outbox(runtime, session)
    await until_status(runtime, message.id, MessageStatus.SENT)
    async with runtime.unit_of_work() as session:
        await sweep_outbox(runtime, session)
    assert [r["text"]["body"] for r in graph.sent_by(thread.number)] == [message.text]
    [request] = graph.sent_by(thread.number)
    entry = await load_outbox(runtime, message.id)
    assert request["biz_opaque_callback_data"] == callback_key(entry.id)
    assert (await load_message(runtime, stale_claim.id)).status == MessageStatus.PENDING
    assert (await load_outbox(runtime, stale_claim.id)).state == OutboxState.SENDING


async def test_a_lost_answer_is_not_resent_and_its_status_webhook_tells_the_outcome(
    client, runtime, graph, thread
):
    """Meta accepted the send but its answer broke off: the row stays claimed, nothing is sent
    again, and the first status webhook carrying the send's callback key gives it its wamid."""
    graph.lose_next_answers(thread.number, 1)
    r = await send_text(client, thread, "Answer lost on the way")
    assert r.status_code == 201, r.text
    message_id = r.json()["data"]["id"]

    async def unanswered() -> OutboxEntry | None:
        entry = await load_outbox(runtime, message_id)
        return entry if entry.attempts == 1 else None

    entry = await eventually(unanswered)
    assert entry.state == OutboxState.SENDING and entry.last_error is not None
    async with runtime.unit_of_work() as session:
        await sweep_outbox(runtime, session)
    await asyncio.sleep(0.3)
    [request] = graph.sent_by(thread.number)
    key = request["biz_opaque_callback_data"]
    assert key == callback_key(entry.id)
    assert (await load_message(runtime, message_id)).status == MessageStatus.PENDING

    wamid = graph.state.wamid_of[key]
    await deliver(client, runtime, status_webhook(thread.number, wamid, "delivered", callback_data=key))
    message = await load_message(runtime, message_id)
    assert (message.status, message.wa_message_id) == (MessageStatus.DELIVERED, wamid)
    assert (await load_outbox(runtime, message_id)).state == OutboxState.SENT
    assert len(graph.sent_by(thread.number)) == 1


async def test_an_outcome_still_unknown_after_the_window_is_reported_not_resent(
    client, runtime, graph, thread, factory
):
    """No status came within the window: UNKNOWN, the message FAILED with ``OUTCOME_UNKNOWN``, never
    sent again; a status that comes later still tells what happened. Another organization's key
    changes nothing."""
    past_window = utcnow() - timedelta(seconds=runtime.settings.whatsapp_send_outcome_window_seconds + 60)
    message, entry = await queued_text(
        runtime,
        thread,
        "outcome unknown",
        state=OutboxState.SENDING,
        due=past_window,
        locked_until=past_window,
    )
    async with runtime.unit_of_work() as session:
        await sweep_outbox(runtime, session)
    failed = await load_message(runtime, message.id)
    assert failed.status == MessageStatus.FAILED and failed.error["code"] == "OUTCOME_UNKNOWN"
    assert (await load_outbox(runtime, message.id)).state == OutboxState.UNKNOWN
    assert graph.sent_by(thread.number) == []

    other = await make_thread(runtime, graph, await factory.org())
    key = callback_key(entry.id)
    await deliver(client, runtime, status_webhook(other.number, "wamid.theirs", "sent", callback_data=key))
    assert (await load_message(runtime, message.id)).status == MessageStatus.FAILED

    await deliver(client, runtime, status_webhook(thread.number, "wamid.late", "sent", callback_data=key))
    late = await load_message(runtime, message.id)
    assert (late.status, late.wa_message_id, late.error) == (MessageStatus.SENT, "wamid.late", None)
    assert (await load_outbox(runtime, message.id)).state == OutboxState.SENT
    assert graph.sent_by(thread.number) == []


# --- the endpoint's guards --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"type": "text", "text": ""},
        {"type": "text", "text": "   "},
        {"type": "text"},
        {"type": "image", "text": "hi"},
        {"type": "text", "text": "x" * 4097},
    ],
)
async def test_send_validation(client, thread, body):
    r = await client.post(f"/conversations/{thread.id}/messages", json=body, headers=thread.org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


async def test_send_malformed_json(client, thread):
    r = await client.post(
        f"/conversations/{thread.id}/messages",
        content=b"{not json",
        headers={**thread.org.admin.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


async def test_send_needs_a_token_and_an_organization_role(client, factory, thread):
    r = await client.post(f"/conversations/{thread.id}/messages", json={"type": "text", "text": "hi"})
    assert r.status_code == 401
    operator = await factory.super_admin()
    r = await client.post(
        f"/conversations/{thread.id}/messages", json={"type": "text", "text": "hi"}, headers=operator.headers
    )
    assert r.status_code == 403


async def test_send_to_another_organization_or_outside_an_agents_view_is_404(
    client, runtime, factory, thread, graph
):
    stranger = await factory.org()
    r = await client.post(
        f"/conversations/{thread.id}/messages",
        json={"type": "text", "text": "hi"},
        headers=stranger.admin.headers,
    )
    assert r.status_code == 404
    agent = await factory.member(thread.org.id, Role.AGENT)
    r = await client.post(
        f"/conversations/{thread.id}/messages", json={"type": "text", "text": "hi"}, headers=agent.headers
    )
    assert r.status_code == 404
    mine = await make_thread(runtime, graph, thread.org, account=thread.account, assigned_to_id=agent.id)
    r = await client.post(
        f"/conversations/{mine.id}/messages", json={"type": "text", "text": "hi"}, headers=agent.headers
    )
    assert r.status_code == 201 and r.json()["data"]["senderUserId"] == agent.id


async def test_an_api_key_sends_as_system(client, thread):
    headers = await api_key_headers(client, thread.org)
    r = await client.post(
        f"/conversations/{thread.id}/messages", json={"type": "text", "text": "hi"}, headers=headers
    )
    assert r.status_code == 201 and r.json()["data"]["senderType"] == "SYSTEM"
