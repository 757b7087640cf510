"""The failed-messages queue: list and filters, statistics, retry, discard, and both in bulk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from cxinbox.core.clock import utcnow
from cxinbox.models.identity import Role
from cxinbox.models.inbox import Conversation, MessageStatus
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import AccountStatus, WhatsAppAccount
from tests.fixtures.people import error_code
from tests.fixtures.sending import (
    failed_send,
    load_message,
    load_outbox,
    make_thread,
    send_text,
    until_status,
)
from tests.fixtures.whatsapp import eventually


async def waiting_for_retry(client, runtime, graph, thread) -> str:
    """A message whose first attempt failed with a retryable error, its retry far in the future."""
    graph.fail_next_sends(thread.number, (400, 131056, None))
    message_id = (await send_text(client, thread, "waiting")).json()["data"]["id"]

    async def scheduled():
        entry = await load_outbox(runtime, message_id)
        return entry if entry.attempts == 1 and entry.state == OutboxState.QUEUED else None

    entry = await eventually(scheduled)
    # the pair-rate backoff is seconds: on a slow machine the retry would run (and succeed) before
    # the test reads the queue, so the retry is moved an hour ahead (a row not due is never sent)
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == entry.id, OutboxEntry.state == OutboxState.QUEUED)
            .values(next_attempt_at=utcnow() + timedelta(hours=1))
        )
    return message_id


async def test_list_filters_and_page_meta(client, runtime, graph, thread):
    undeliverable = await failed_send(client, runtime, graph, thread, 131026)
    template_error = await failed_send(client, runtime, graph, thread, 132001)
    waiting = await waiting_for_retry(client, runtime, graph, thread)
    neighbour = await make_thread(runtime, graph, thread.org, account=thread.account)
    delivered = (await send_text(client, neighbour, "fine")).json()["data"]["id"]
    await until_status(runtime, delivered, MessageStatus.SENT)
    headers = thread.org.admin.headers

    r = await client.get("/messages/failed", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [m["id"] for m in body["data"]] == [waiting, template_error, undeliverable]
    assert body["meta"] == {"page": 1, "pageSize": 25, "total": 3, "totalPages": 1}
    first = body["data"][2]
    assert (first["contactName"], first["contactPhone"]) == ("Dana Customer", thread.contact.phone)
    assert (first["attempts"], first["permanent"], first["deliveryState"]) == (1, True, "FAILED")
    assert first["error"]["code"] == 131026 and first["lastError"]["code"] == 131026
    assert body["data"][0]["nextAttemptAt"] is not None

    async def ids(**params):
        r = await client.get("/messages/failed", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [m["id"] for m in r.json()["data"]]

    assert await ids(status="FAILED") == [template_error, undeliverable]
    assert await ids(status="PENDING") == [waiting]
    assert await ids(permanent="false") == [waiting]
    assert await ids(search="waiting") == [waiting]
    assert await ids(search="dana") == [waiting, template_error, undeliverable]
    assert await ids(templateName="order_update") == []
    page = await client.get("/messages/failed", params={"page": 2, "pageSize": 2}, headers=headers)
    assert [m["id"] for m in page.json()["data"]] == [undeliverable]
    assert page.json()["meta"] == {"page": 2, "pageSize": 2, "total": 3, "totalPages": 2}


async def test_stats(client, runtime, graph, thread):
    await failed_send(client, runtime, graph, thread, 131026)
    await failed_send(client, runtime, graph, thread, 131026)
    gone = await failed_send(client, runtime, graph, thread, 190)
    await waiting_for_retry(client, runtime, graph, thread)
    assert (
        await client.post(f"/messages/{gone}/discard", headers=thread.org.admin.headers)
    ).status_code == 200
    r = await client.get("/messages/failed/stats", headers=thread.org.admin.headers)
    assert r.status_code == 200
    assert r.json()["data"] == {
        "failed": 2,
        "pending": 1,
        "permanent": 2,
        "retryable": 0,
        "discarded": 1,
        "last24Hours": 2,
        "byErrorCode": [{"code": 131026, "count": 2}],
    }


async def test_retry_send_sends_again(client, runtime, graph, thread):
    message_id = await failed_send(client, runtime, graph, thread, 131026)
    r = await client.post(f"/messages/{message_id}/retry-send", headers=thread.org.admin.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["status"], r.json()["data"]["error"]) == ("PENDING", None)
    message = await until_status(runtime, message_id, MessageStatus.SENT)
    assert message.error is None and message.wa_message_id
    assert len(graph.attempts_by(thread.number)) == 2
    again = await client.post(f"/messages/{message_id}/retry-send", headers=thread.org.admin.headers)
    assert again.status_code == 409 and error_code(again) == "MESSAGE_NOT_FAILED"


async def test_a_discarded_message_is_never_sent_again(client, runtime, graph, thread):
    failed = await failed_send(client, runtime, graph, thread, 131026)
    waiting = await waiting_for_retry(client, runtime, graph, thread)
    headers = thread.org.admin.headers
    for message_id in (failed, waiting):
        assert (await client.post(f"/messages/{message_id}/discard", headers=headers)).status_code == 200
        r = await client.post(f"/messages/{message_id}/retry-send", headers=headers)
        assert r.status_code == 409 and error_code(r) == "MESSAGE_DISCARDED", r.text
        assert (await load_outbox(runtime, message_id)).state == OutboxState.DISCARDED
        assert (await load_message(runtime, message_id)).status == MessageStatus.FAILED
    r = await client.post(
        "/messages/failed/bulk-retry", json={"messageIds": [failed, waiting]}, headers=headers
    )
    assert r.json()["data"]["succeeded"] == 0
    assert {f["code"] for f in r.json()["data"]["failed"]} == {"MESSAGE_DISCARDED"}
    assert len(graph.attempts_by(thread.number)) == 2


async def test_retry_send_leaves_a_message_waiting_for_its_retry_alone(client, runtime, graph, thread):
    message_id = await waiting_for_retry(client, runtime, graph, thread)
    before = await load_outbox(runtime, message_id)
    r = await client.post(f"/messages/{message_id}/retry-send", headers=thread.org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "MESSAGE_NOT_FAILED", r.text
    after = await load_outbox(runtime, message_id)
    assert (after.state, after.attempts, after.next_attempt_at) == (
        OutboxState.QUEUED,
        1,
        before.next_attempt_at,
    )
    assert (await load_message(runtime, message_id)).status == MessageStatus.PENDING
    assert len(graph.attempts_by(thread.number)) == 1


async def test_retry_send_outside_the_window(client, runtime, graph, thread):
    message_id = await failed_send(client, runtime, graph, thread, 131047)
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == thread.id)
            .values(last_inbound_at=utcnow() - timedelta(days=2))
        )
    r = await client.post(f"/messages/{message_id}/retry-send", headers=thread.org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "WINDOW_CLOSED"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (AccountStatus.DISABLED, "ACCOUNT_DISABLED"),
        (AccountStatus.DELETED, "ACCOUNT_DELETED"),
        (AccountStatus.DISCONNECTED, "ACCOUNT_DISCONNECTED"),
    ],
)
async def test_retry_send_from_a_number_that_cannot_send(client, runtime, graph, thread, status, code):
    message_id = await failed_send(client, runtime, graph, thread, 131026)
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(WhatsAppAccount).where(WhatsAppAccount.id == thread.account.id).values(status=status)
        )
    r = await client.post(f"/messages/{message_id}/retry-send", headers=thread.org.admin.headers)
    assert r.status_code == 409 and error_code(r) == code
    assert (await load_message(runtime, message_id)).status == MessageStatus.FAILED
    assert len(graph.attempts_by(thread.number)) == 1


async def test_discard_takes_it_out_of_the_queue(client, runtime, graph, thread):
    failed = await failed_send(client, runtime, graph, thread)
    waiting = await waiting_for_retry(client, runtime, graph, thread)
    for message_id in (failed, waiting):
        r = await client.post(f"/messages/{message_id}/discard", headers=thread.org.admin.headers)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["deliveryState"] == "DISCARDED"
    assert (await load_message(runtime, waiting)).status == MessageStatus.FAILED
    assert (await client.get("/messages/failed", headers=thread.org.admin.headers)).json()["data"] == []
    neighbour = await make_thread(runtime, graph, thread.org, account=thread.account)
    sent = (await send_text(client, neighbour, "fine")).json()["data"]["id"]
    await until_status(runtime, sent, MessageStatus.SENT)
    r = await client.post(f"/messages/{sent}/discard", headers=thread.org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "MESSAGE_NOT_FAILED"


async def test_bulk_retry_and_discard(client, runtime, graph, thread, factory):
    a = await failed_send(client, runtime, graph, thread)
    b = await failed_send(client, runtime, graph, thread)
    stranger = await make_thread(runtime, graph, await factory.org())
    foreign = await failed_send(client, runtime, graph, stranger)
    headers = thread.org.admin.headers

    r = await client.post("/messages/failed/bulk-retry", json={"messageIds": [a, foreign]}, headers=headers)
    assert r.status_code == 200, r.text
    result = r.json()["data"]
    assert (result["action"], result["requested"], result["succeeded"], result["succeededIds"]) == (
        "retry",
        2,
        1,
        [a],
    )
    assert result["failed"] == [{"id": foreign, "code": "NOT_FOUND", "message": "Message not found"}]
    await until_status(runtime, a, MessageStatus.SENT)

    body = {"selection": {"mode": "filter", "filter": {"status": "FAILED"}}}
    r = await client.post("/messages/failed/bulk-discard", json=body, headers=headers)
    assert r.json()["data"]["succeededIds"] == [b]
    assert (await load_outbox(runtime, b)).state == OutboxState.DISCARDED
    assert (await load_outbox(runtime, foreign)).state == OutboxState.FAILED


@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("GET", "/messages/failed", None),
        ("GET", "/messages/failed/stats", None),
        ("POST", "/messages/failed/bulk-retry", {"messageIds": ["x"]}),
        ("POST", "/messages/failed/bulk-discard", {"messageIds": ["x"]}),
        ("POST", "/messages/{id}/retry-send", None),
        ("POST", "/messages/{id}/discard", None),
    ],
)
async def test_admin_only_and_token_needed(client, runtime, graph, factory, thread, method, path, json):
    message_id = await failed_send(client, runtime, graph, thread)
    url = path.format(id=message_id)
    assert (await client.request(method, url, json=json)).status_code == 401
    for role in (Role.AGENT, Role.SUPERVISOR):
        member = await factory.member(thread.org.id, role)
        r = await client.request(method, url, json=json, headers=member.headers)
        assert r.status_code == 403 and error_code(r) == "FORBIDDEN"


@pytest.mark.parametrize("action", ["retry-send", "discard"])
async def test_another_organizations_message_is_404(client, runtime, graph, factory, thread, action):
    message_id = await failed_send(client, runtime, graph, thread)
    stranger = await factory.org()
    assert (
        await client.post(f"/messages/{message_id}/{action}", headers=stranger.admin.headers)
    ).status_code == 404
    stranger_list = await client.get("/messages/failed", headers=stranger.admin.headers)
    assert stranger_list.json()["meta"]["total"] == 0


@pytest.mark.parametrize(
    ("path", "params", "json"),
    [
        ("/messages/failed", {"status": "SENT"}, None),
        ("/messages/failed", {"pageSize": 0}, None),
        ("/messages/failed", {"page": 0}, None),
        ("/messages/failed/bulk-retry", None, {}),
        ("/messages/failed/bulk-retry", None, {"messageIds": []}),
        ("/messages/failed/bulk-discard", None, {"selection": {"mode": "ids"}}),
        ("/messages/failed/bulk-discard", None, {"selection": {"mode": "filter", "filter": {"status": "X"}}}),
    ],
)
async def test_validation(client, thread, path, params, json):
    method = "GET" if json is None else "POST"
    r = await client.request(method, path, params=params, json=json, headers=thread.org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
