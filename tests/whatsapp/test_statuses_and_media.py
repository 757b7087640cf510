"""Delivery statuses (kept, forward-only, before their message) and inbound media downloads."""

from __future__ import annotations

import uuid

import pytest

from cxinbox.models.inbox import (
    MediaState,
    Message,
    MessageStatus,
)
from cxinbox.whatsapp.inbound.statuses import apply_pending_statuses
from tests.fixtures.whatsapp import (
    connect_number,
    deliver,
    eventually,
    for_number,
    messages_of,
    new_wamid,
    outbound_message,
    reload,
    sample,
    status_body,
    status_events,
)


@pytest.fixture
async def number(runtime, factory, graph):
    org = await factory.org()
    return org, await connect_number(runtime, graph, org.id)


async def test_statuses_only_move_forward_and_every_one_is_kept(client, runtime, number):
    org, account = number
    wamid = new_wamid()
    message = await outbound_message(runtime, client, number, wamid=wamid)
    await deliver(client, runtime, status_body(account, "read", wamid, "1698266950"))
    await deliver(client, runtime, status_body(account, "delivered", wamid, "1698266948"))  # late
    await deliver(client, runtime, status_body(account, "sent", wamid, "1698266945"))  # later still
    await deliver(client, runtime, status_body(account, "sent", wamid, "1698266945"))  # duplicate
    current = await reload(runtime, message.id)
    assert current.status == MessageStatus.READ
    assert current.pricing_category == "service"
    events = await status_events(runtime, wamid)
    assert [e.status for e in events] == ["read", "delivered", "sent"]
    assert all(e.message_id == message.id and e.applied_at for e in events)


async def test_a_failure_is_kept_with_metas_code_and_message(client, runtime, number):
    org, account = number
    wamid = new_wamid()
    message = await outbound_message(runtime, client, number, wamid=wamid)
    await deliver(client, runtime, status_body(account, "failed", wamid))
    current = await reload(runtime, message.id)
    assert current.status == MessageStatus.FAILED
    assert current.error["code"] == 130472
    assert current.error["message"] == "User's number is part of an experiment"
    [event] = await status_events(runtime, wamid)
    assert event.errors[0]["code"] == 130472


async def test_played_counts_as_read(client, runtime, number):
    _org, account = number
    wamid = new_wamid()
    message = await outbound_message(runtime, client, number, wamid=wamid)
    await deliver(client, runtime, status_body(account, "played", wamid))
    assert (await reload(runtime, message.id)).status == MessageStatus.READ


async def test_a_status_before_its_message_is_kept_and_applied_later(client, runtime, number):
    org, account = number
    wamid = new_wamid()
    await deliver(client, runtime, status_body(account, "delivered", wamid))
    [waiting] = await status_events(runtime, wamid)
    assert (waiting.message_id, waiting.applied_at) == (None, None)
    message = await outbound_message(runtime, client, number, wamid=None)
    async with runtime.unit_of_work() as session:  # what the sending pipeline does with Meta's answer
        row = await session.get_one(Message, message.id)
        row.wa_message_id = wamid
        row.status = MessageStatus.SENT
        await apply_pending_statuses(session, runtime, row)
    assert (await reload(runtime, message.id)).status == MessageStatus.DELIVERED
    [applied] = await status_events(runtime, wamid)
    assert applied.message_id == message.id and applied.applied_at is not None


async def test_media_is_downloaded_after_transient_failures(client, runtime, number, graph):
    org, account = number
    data = b"\x89PNG fake image bytes " + uuid.uuid4().bytes
    media_id = graph.add_media(account.token, data, "image/jpeg", failures=2)
    payload = sample("message.json", "image")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"] = media_id
    await deliver(client, runtime, for_number(payload, account.phone_number_id))

    async def downloaded():
        [message] = await messages_of(runtime, org.id)
        return message if message.media["state"] == MediaState.DOWNLOADED else None

    message = await eventually(downloaded)
    assert graph.state.media[media_id].downloads == 3
    assert message.media["providerMediaId"] == media_id
    assert message.media["size"] == len(data)
    stored, content_type = await runtime.storage.read(message.media["storageKey"])
    assert (stored, content_type) == (data, "image/jpeg")
    assert not message.media["storageKey"].startswith("public/")


async def test_media_that_meta_no_longer_has_keeps_its_id(client, runtime, number):
    org, account = number
    payload = sample("message.json", "document")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["document"]["id"] = "404404404"
    await deliver(client, runtime, for_number(payload, account.phone_number_id))

    async def failed():
        [message] = await messages_of(runtime, org.id)
        return message if message.media["state"] == MediaState.FAILED else None

    message = await eventually(failed)
    assert message.media["providerMediaId"] == "404404404"
    assert message.media["lastError"]["code"] == 100
    assert message.text == "caption"
