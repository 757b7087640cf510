"""The webhook endpoint: verification, signatures, storage of every sample, routing, the sweeper."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from cxinbox.core.clock import utcnow
from cxinbox.models.whatsapp import WebhookEvent
from cxinbox.whatsapp.signature import sign
from tests.conftest import META_VERIFY_TOKEN
from tests.fixtures.whatsapp import (
    SAMPLES,
    connect_number,
    deliver,
    eventually,
    for_number,
    messages_of,
    post_webhook,
    processed,
    sample,
    unique_number,
)

ALL_SAMPLES = [
    (path.name, case) for path in sorted(SAMPLES.glob("*.json")) for case in json.loads(path.read_text())
]


async def test_verification_echoes_the_challenge(client):
    r = await client.get(
        "/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": META_VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert r.status_code == 200
    assert r.text == "1158201444"
    assert r.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": META_VERIFY_TOKEN, "hub.challenge": "1"},
        {},
    ],
)
async def test_verification_refuses_a_wrong_token_or_mode(client, params):
    r = await client.get("/webhooks/whatsapp", params=params)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "FORBIDDEN"


async def _stored_count(runtime, body: bytes) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).where(WebhookEvent.body == body)) or 0)


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "md5=abc", sign("another-secret", b"{}")])
async def test_missing_or_wrong_signature_is_401_and_nothing_is_stored(client, runtime, signature):
    body = for_number(sample("message.json", "text"), unique_number())
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    r = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert await _stored_count(runtime, body) == 0


async def test_signature_is_over_the_raw_bytes(client, runtime, factory, graph):
    """Meta escapes non-ASCII; the body is verified and stored byte for byte as received."""
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    payload = sample("message.json", "text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "Olá 👋"
    body = for_number(payload, account.phone_number_id)  # json.dumps escapes like Meta does
    assert b"\\u00e1" in body
    event = await deliver(client, runtime, body)
    assert event.body == body
    [message] = await messages_of(runtime, org.id)
    assert message.text == "Olá 👋"


async def test_a_number_with_its_own_app_secret_is_verified_with_it(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id, app_secret="own-app-secret")
    payload = sample("message.json", "text")
    payload["entry"][0]["id"] = account.waba_id  # as Meta sends it: the number's own business account
    body = for_number(payload, account.phone_number_id)
    assert (await post_webhook(client, body)).status_code == 401  # the platform's secret is not it
    assert await _stored_count(runtime, body) == 0
    await deliver(client, runtime, body, secret="own-app-secret")
    assert len(await messages_of(runtime, org.id)) == 1


@pytest.mark.parametrize(("file", "case"), ALL_SAMPLES)
async def test_every_sample_is_stored_or_deliberately_ignored(client, runtime, factory, graph, file, case):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    event = await deliver(client, runtime, for_number(sample(file, case), account.phone_number_id))
    assert event.error is None or event.error.startswith("ignored")
    assert event.attempts == 0


async def test_unknown_number_stays_an_unrouted_event(client, runtime):
    number = unique_number()
    event = await deliver(client, runtime, for_number(sample("message.json", "text"), number))
    assert event.organization_id is None
    assert event.phone_number_id == number
    assert event.error is None


async def test_the_sweeper_processes_events_left_behind(runtime, factory, graph):
    """A crash between "stored" and "processed": the event is stored but its job never ran."""
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    async with runtime.unit_of_work() as session:
        event = WebhookEvent(
            body=for_number(sample("message.json", "text"), account.phone_number_id),
            phone_number_id=account.phone_number_id,
            received_at=utcnow() - timedelta(minutes=10),
        )
        session.add(event)
    assert await messages_of(runtime, org.id) == []
    await runtime.jobs.kick("whatsapp.sweep_webhooks")
    done = await processed(runtime, event.id)
    assert done.organization_id == org.id
    assert len(await messages_of(runtime, org.id)) == 1


async def test_malformed_json_with_a_valid_signature_is_stored_and_ignored(client, runtime):
    event = await deliver(client, runtime, b'{"object": "whatsapp_business_account", "entry": [')
    assert event.error.startswith("ignored")


async def test_a_burst_of_webhooks_is_stored_together_and_all_processed(client, runtime, graph, factory):
    """Concurrent posts share a commit (group commit) and one drain processes them all."""
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    bodies = [for_number(sample("message.json", "text"), account.phone_number_id) for _ in range(30)]
    answers = await asyncio.gather(*(post_webhook(client, body) for body in bodies))
    assert {r.status_code for r in answers} == {200}
    ids = {r.json()["data"]["id"] for r in answers}
    assert len(ids) == 30
    for event_id in ids:
        await processed(runtime, event_id)
    assert len(await messages_of(runtime, org.id)) == 30


async def test_an_event_that_cannot_be_processed_holds_up_no_other(runtime, factory, graph):
    """One event of a batch failing (here a sender id longer than any Meta issues, which
    PostgreSQL refuses) fails the batch's transaction: the others are then processed one by one,
    and the failing one keeps its error for the sweeper's next attempts."""
    if runtime.settings.is_sqlite:
        pytest.skip("SQLite does not enforce column lengths: nothing fails")
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    payload = sample("message.json", "text")
    broken = json.loads(for_number(payload, account.phone_number_id))
    broken["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = "9" * 100
    bodies = [
        for_number(payload, account.phone_number_id),
        json.dumps(broken).encode(),
        for_number(payload, account.phone_number_id),
    ]
    async with runtime.unit_of_work() as session:
        events = [WebhookEvent(body=b, phone_number_id=account.phone_number_id) for b in bodies]
        session.add_all(events)
    await runtime.jobs.kick("whatsapp.drain_webhooks")
    for good in (events[0], events[2]):
        await processed(runtime, good.id)
    assert len(await messages_of(runtime, org.id)) == 2

    async def failed_once() -> WebhookEvent | None:
        async with runtime.sessionmaker() as session:
            event = await session.get_one(WebhookEvent, events[1].id)
        return event if event.attempts else None

    failed = await eventually(failed_once)
    assert failed.processed_at is None and failed.error


async def test_concurrent_webhooks_of_a_number_share_one_read_of_its_secrets(client, runtime, factory, graph):
    """Twenty requests arriving together while the number's secrets are not cached would read them
    twenty times; they share one read (processing reads the accounts too, hence a margin)."""
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "FROM whatsapp_accounts" in statement:
            reads.append(statement)

    # the secrets are read through a read session: on SQLite an engine of its own
    engines = {runtime.engine.sync_engine.pool: runtime.engine.sync_engine}
    engines.setdefault(runtime.current_read_engine.sync_engine.pool, runtime.current_read_engine.sync_engine)
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", count)
    try:
        bodies = [for_number(sample("message.json", "text"), account.phone_number_id) for _ in range(20)]
        answers = await asyncio.gather(*(post_webhook(client, body) for body in bodies))
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", count)
    assert {r.status_code for r in answers} == {200}
    assert 1 <= len(reads) <= 5
