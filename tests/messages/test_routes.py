"""Listing a conversation's messages, media sends, reactions, hiding and media download retries."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from cxinbox.core.clock import utcnow
from cxinbox.models.identity import Role
from cxinbox.models.inbox import Direction, MediaState, Message, MessageStatus, MessageType, SenderType
from tests.fixtures.people import error_code, events_of
from tests.fixtures.sending import load_message, make_thread, send_text, until_status
from tests.fixtures.whatsapp import eventually

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% a tiny document\n"


async def fetch(client, url: str):
    """GET an absolute URL of this API through the in-process client."""
    parts = urlsplit(url)
    return await client.get(parts.path.removeprefix("/api/v1") + "?" + parts.query)


async def add_messages(runtime, thread, count: int, *, same_instant: bool = False) -> list[str]:
    base = utcnow() - timedelta(minutes=2 if same_instant else 1)
    async with runtime.unit_of_work() as session:
        rows = [
            Message(
                organization_id=thread.org.id,
                conversation_id=thread.id,
                direction=Direction.INBOUND,
                sender_type=SenderType.CUSTOMER,
                type=MessageType.TEXT,
                text=f"{'same instant' if same_instant else 'message'} {i}",
                status=MessageStatus.RECEIVED,
                ordered_at=base if same_instant else base + timedelta(seconds=i),
            )
            for i in range(count)
        ]
        session.add_all(rows)
    return [m.id for m in rows]


# --- listing -------------------------------------------------------------------------------------------


async def test_list_is_newest_first_with_cursors(client, runtime, thread):
    ids = await add_messages(runtime, thread, 5)
    await add_messages(runtime, thread, 3, same_instant=True)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        r = await client.get(
            f"/conversations/{thread.id}/messages", params=params, headers=thread.org.admin.headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        seen += body["data"]
        cursor = body["meta"]["nextCursor"]
        if not body["meta"]["hasMore"]:
            assert cursor is None
            break
    assert len(seen) == 9 and len({m["id"] for m in seen}) == 9
    keys = [(m["timestamp"], m["id"]) for m in seen]
    assert keys == sorted(keys, reverse=True)
    assert [m["id"] for m in seen if m["text"] and m["text"].startswith("message")][:5] == list(reversed(ids))


async def test_list_validation_and_access(client, runtime, graph, factory, thread):
    path = f"/conversations/{thread.id}/messages"
    assert (await client.get(path, params={"limit": 0}, headers=thread.org.admin.headers)).status_code == 400
    bad = await client.get(path, params={"cursor": "%%%"}, headers=thread.org.admin.headers)
    assert bad.status_code == 400 and error_code(bad) == "VALIDATION_ERROR"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=(await factory.super_admin()).headers)).status_code == 403
    assert (await client.get(path, headers=(await factory.org()).admin.headers)).status_code == 404
    agent = await factory.member(thread.org.id, Role.AGENT)
    assert (await client.get(path, headers=agent.headers)).status_code == 404
    mine = await make_thread(runtime, graph, thread.org, account=thread.account, assigned_to_id=agent.id)
    r = await client.get(f"/conversations/{mine.id}/messages", headers=agent.headers)
    assert r.status_code == 200 and [m["id"] for m in r.json()["data"]] == [mine.inbound.id]


# --- media ---------------------------------------------------------------------------------------------


async def test_media_is_uploaded_then_sent_and_its_url_serves_the_bytes(client, runtime, graph, thread):
    r = await client.post(
        f"/conversations/{thread.id}/messages/media",
        files={"file": ("photo.png", PNG, "image/png")},
        data={"caption": "The damaged box"},
        headers=thread.org.admin.headers,
    )
    assert r.status_code == 201, r.text
    sent = r.json()["data"]
    assert (sent["type"], sent["media"]["mimeType"], sent["media"]["caption"]) == (
        "image",
        "image/png",
        "The damaged box",
    )
    assert sent["media"]["size"] == len(PNG) and sent["media"]["sha256"] == hashlib.sha256(PNG).hexdigest()

    message = await until_status(runtime, sent["id"], MessageStatus.SENT)
    [request] = graph.sent_by(thread.number)
    media_id = request["image"]["id"]
    assert request["image"]["caption"] == "The damaged box"
    assert graph.state.uploads[media_id] == (thread.number, "photo.png", "image/png", PNG)
    assert message.media["providerMediaId"] == media_id

    file = await fetch(client, sent["media"]["url"])
    assert file.status_code == 200
    assert file.content == PNG and file.headers["content-type"] == "image/png"


async def test_a_document_keeps_its_filename(client, runtime, graph, thread):
    r = await client.post(
        f"/conversations/{thread.id}/messages/media",
        files={"file": ("invoice.pdf", PDF, "application/octet-stream")},
        headers=thread.org.admin.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["type"] == "document"
    await until_status(runtime, r.json()["data"]["id"], MessageStatus.SENT)
    [request] = graph.sent_by(thread.number)
    assert request["document"]["filename"] == "invoice.pdf"


@pytest.mark.parametrize(
    ("file", "data", "status"),
    [
        (("tool.exe", b"MZ\x90\x00", "application/x-msdownload"), {}, 415),
        (("fake.png", b"not an image", "image/png"), {}, 415),
        (("big.webp", b"RIFF\x00\x00\x00\x00WEBP" + b"\x00" * 600 * 1024, "image/webp"), {}, 413),
        (("voice.ogg", b"OggS" + b"\x00" * 32, "audio/ogg"), {"caption": "no captions on audio"}, 400),
    ],
)
async def test_media_refusals(client, graph, thread, file, data, status):
    r = await client.post(
        f"/conversations/{thread.id}/messages/media",
        files={"file": file},
        data=data,
        headers=thread.org.admin.headers,
    )
    assert r.status_code == status, r.text
    assert graph.attempts_by(thread.number) == []


async def test_media_guards(client, runtime, graph, factory, thread):
    path = f"/conversations/{thread.id}/messages/media"
    files = {"file": ("photo.png", PNG, "image/png")}
    missing = await client.post(path, data={"caption": "x"}, headers=thread.org.admin.headers)
    assert missing.status_code == 400 and error_code(missing) == "VALIDATION_ERROR"
    assert (await client.post(path, files=files)).status_code == 401
    assert (
        await client.post(path, files=files, headers=(await factory.super_admin()).headers)
    ).status_code == 403
    assert (
        await client.post(path, files=files, headers=(await factory.org()).admin.headers)
    ).status_code == 404
    closed = await make_thread(runtime, graph, thread.org, account=thread.account, last_inbound=None)
    r = await client.post(
        f"/conversations/{closed.id}/messages/media", files=files, headers=thread.org.admin.headers
    )
    assert r.status_code == 409 and error_code(r) == "WINDOW_CLOSED"


# --- reactions -----------------------------------------------------------------------------------------


async def test_react_sends_a_reaction_to_the_message(client, runtime, graph, thread):
    r = await client.post(
        f"/messages/{thread.inbound.id}/react", json={"emoji": "👍"}, headers=thread.org.admin.headers
    )
    assert r.status_code == 201, r.text
    reaction = r.json()["data"]
    assert reaction["type"] == "reaction"
    assert reaction["reaction"] == {
        "emoji": "👍",
        "messageId": thread.inbound.id,
        "waMessageId": thread.inbound.wa_message_id,
    }
    await until_status(runtime, reaction["id"], MessageStatus.SENT)
    [request] = graph.sent_by(thread.number)
    assert request["reaction"] == {"message_id": thread.inbound.wa_message_id, "emoji": "👍"}


async def test_react_guards(client, runtime, graph, factory, thread):
    path = f"/messages/{thread.inbound.id}/react"
    assert (await client.post(path, json={}, headers=thread.org.admin.headers)).status_code == 400
    assert (await client.post(path, json={"emoji": "👍"})).status_code == 401
    operator = await factory.super_admin()
    assert (await client.post(path, json={"emoji": "👍"}, headers=operator.headers)).status_code == 403
    stranger = await factory.org()
    assert (await client.post(path, json={"emoji": "👍"}, headers=stranger.admin.headers)).status_code == 404
    agent = await factory.member(thread.org.id, Role.AGENT)
    assert (await client.post(path, json={"emoji": "👍"}, headers=agent.headers)).status_code == 404
    unsent = (await send_text(client, thread, "not sent yet")).json()["data"]["id"]
    # let delivery finish (on Redis it runs in the background), then make it one Meta never took
    await until_status(runtime, unsent, MessageStatus.SENT)
    async with runtime.unit_of_work() as session:
        row = await session.get_one(Message, unsent)
        row.wa_message_id = None
    r = await client.post(f"/messages/{unsent}/react", json={"emoji": "👍"}, headers=thread.org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "MESSAGE_NOT_SENT"


# --- hiding --------------------------------------------------------------------------------------------


async def test_toggle_hide(client, runtime, factory, thread):
    path = f"/messages/{thread.inbound.id}/toggle-hide"
    first = await client.post(path, headers=thread.org.admin.headers)
    assert first.status_code == 200 and first.json()["data"]["isHidden"] is True
    second = await client.post(path, headers=thread.org.admin.headers)
    assert second.json()["data"]["isHidden"] is False
    updates = [e["isHidden"] for e in await events_of(runtime, thread.org.id, "message.updated")]
    assert updates == [True, False]
    assert (await client.post(path)).status_code == 401
    assert (await client.post(path, headers=(await factory.super_admin()).headers)).status_code == 403
    assert (await client.post(path, headers=(await factory.org()).admin.headers)).status_code == 404
    agent = await factory.member(thread.org.id, Role.AGENT)
    assert (await client.post(path, headers=agent.headers)).status_code == 404
    assert (
        await client.post("/messages/no-such-id/toggle-hide", headers=thread.org.admin.headers)
    ).status_code == 404


# --- media download retries ------------------------------------------------------------------------------


async def inbound_media(runtime, thread, media_id: str, state: MediaState) -> str:
    async with runtime.unit_of_work() as session:
        message = Message(
            organization_id=thread.org.id,
            conversation_id=thread.id,
            direction=Direction.INBOUND,
            sender_type=SenderType.CUSTOMER,
            type=MessageType.IMAGE,
            status=MessageStatus.RECEIVED,
            media={"providerMediaId": media_id, "mimeType": "image/png", "state": state.value, "attempts": 5},
        )
        session.add(message)
    return message.id


async def test_retry_media_downloads_again(client, runtime, graph, thread):
    media_id = graph.add_media(thread.account.token, PNG, "image/png")
    message_id = await inbound_media(runtime, thread, media_id, MediaState.FAILED)
    r = await client.post(f"/messages/{message_id}/retry-media", headers=thread.org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["media"]["downloadState"] == "PENDING"

    async def downloaded() -> Message | None:
        message = await load_message(runtime, message_id)
        return message if message.media["state"] == MediaState.DOWNLOADED.value else None

    await eventually(downloaded)
    listed = await client.get(f"/conversations/{thread.id}/messages", headers=thread.org.admin.headers)
    [media] = [m["media"] for m in listed.json()["data"] if m["id"] == message_id]
    file = await fetch(client, media["url"])
    assert file.content == PNG and file.headers["content-type"] == "image/png"

    again = await client.post(f"/messages/{message_id}/retry-media", headers=thread.org.admin.headers)
    assert again.status_code == 409 and error_code(again) == "MEDIA_ALREADY_DOWNLOADED"


async def test_retry_media_guards(client, factory, thread):
    path = f"/messages/{thread.inbound.id}/retry-media"
    r = await client.post(path, headers=thread.org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "NO_MEDIA"
    assert (await client.post(path)).status_code == 401
    assert (await client.post(path, headers=(await factory.super_admin()).headers)).status_code == 403
    assert (await client.post(path, headers=(await factory.org()).admin.headers)).status_code == 404
