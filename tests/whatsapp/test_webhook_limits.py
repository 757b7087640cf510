"""What the unauthenticated webhook reads before its signature is checked is bounded: the ids a body
may name, and the signers cached for them (those of real numbers apart from made-up ones)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from cxinbox.models.whatsapp import WebhookEvent
from cxinbox.whatsapp.intake import intake_for
from cxinbox.whatsapp.signature import sign
from cxinbox.whatsapp.webhooks import MAX_SIGNING_IDS
from tests.fixtures.whatsapp import connect_number, deliver, for_number, post_webhook, sample, unique_number


def naming(numbers: list[str]) -> bytes:
    """A body with one (empty) message change for each of ``numbers``."""
    changes = [{"field": "messages", "value": {"metadata": {"phone_number_id": n}}} for n in numbers]
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": unique_number(), "changes": changes}]}
    ).encode()


async def stored(runtime, body: bytes) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).where(WebhookEvent.body == body)) or 0)


@pytest.mark.parametrize("count", [MAX_SIGNING_IDS, 40_000])
async def test_a_body_naming_too_many_ids_is_refused_before_any_read(client, runtime, count):
    """One id over the cap (the body also names its business account), and the 40,000 that once
    gave a 500 on PostgreSQL: 413, nothing stored, nothing cached."""
    intake = intake_for(runtime)
    cached = len(intake.known) + len(intake.unknown)
    body = naming([str(10**14 + i) for i in range(count)])
    r = await post_webhook(client, body)
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "TOO_MANY_IDS"
    assert await stored(runtime, body) == 0
    assert len(intake.known) + len(intake.unknown) == cached


async def test_a_body_within_the_cap_is_stored(client, runtime):
    numbers = [unique_number() for _ in range(MAX_SIGNING_IDS - 1)]
    event = await deliver(client, runtime, naming(numbers))
    assert event.phone_number_id == numbers[0]


async def test_made_up_ids_are_cached_apart_and_evict_no_real_number(
    client, runtime, factory, graph, monkeypatch
):
    intake = intake_for(runtime)
    monkeypatch.setattr(intake.unknown, "size", 5)
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    await deliver(client, runtime, for_number(sample("message.json", "text"), account.phone_number_id))
    made_up = [unique_number() for _ in range(20)]
    for number in made_up:
        body = for_number(sample("message.json", "text"), number)
        r = await client.post(
            "/webhooks/whatsapp",
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign("forged", body)},
        )
        assert r.status_code == 401
    assert len(intake.unknown) <= 5
    assert account.phone_number_id in intake.known
    assert not any(number in intake.known for number in made_up)


async def test_the_cache_of_real_numbers_is_bounded(client, runtime, factory, graph, monkeypatch):
    intake = intake_for(runtime)
    monkeypatch.setattr(intake.known, "size", 3)
    org = await factory.org()
    for _ in range(5):
        account = await connect_number(runtime, graph, org.id)
        await deliver(client, runtime, for_number(sample("message.json", "text"), account.phone_number_id))
    assert len(intake.known) <= 3
    assert account.phone_number_id in intake.known  # the most recent stays
