"""Inbound media from a hostile webhook or a hostile Meta answer: the media id never becomes a URL,
the account's token reaches no host but Meta's, and every failed download ends FAILED with an error
the client can read (never PENDING forever)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from cxinbox.models.inbox import MediaState, Message
from cxinbox.models.whatsapp import WhatsAppAccount
from tests.fixtures.whatsapp import connect_number, deliver, eventually, for_number, messages_of, sample


@pytest.fixture
async def number(runtime, factory, graph):
    org = await factory.org()
    return org, await connect_number(runtime, graph, org.id)


def document(media_id: str, *, filename: str = "filename.pdf") -> dict[str, Any]:
    payload = sample("message.json", "document")
    content = payload["entry"][0]["changes"][0]["value"]["messages"][0]["document"]
    content["id"], content["filename"] = media_id, filename
    return payload


async def settled(runtime, organization_id: str) -> Message:
    """The organization's one message, once its download is DOWNLOADED or FAILED."""

    async def check() -> Message | None:
        [message] = await messages_of(runtime, organization_id)
        return message if message.media["state"] != MediaState.PENDING else None

    return await eventually(check)


async def listed_media(client, org, message: Message) -> dict[str, Any]:
    r = await client.get(f"/conversations/{message.conversation_id}/messages", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    [media] = [m["media"] for m in r.json()["data"] if m["id"] == message.id]
    return media


@pytest.mark.parametrize(
    "media_id",
    [
        "{web}/headers",
        "//127.0.0.1:{port}/headers",
        "../../{port}/headers",
        "123?access_token=x",
        "123/../456",
        "١٢٣",  # digits, but not ASCII ones
        "",
    ],
)
async def test_a_media_id_that_is_not_digits_never_reaches_a_url(client, runtime, number, web, media_id):
    org, account = number
    before = len(web.paths())
    bad_id = media_id.format(web=web.url, port=web.port)
    await deliver(client, runtime, for_number(document(bad_id), account.phone_number_id))

    message = await settled(runtime, org.id)
    assert message.media["state"] == MediaState.FAILED
    assert message.media["providerMediaId"] is None
    assert len(web.paths()) == before
    media = await listed_media(client, org, message)
    assert media["downloadState"] == "FAILED"
    assert media["lastError"]["message"] == "The webhook named no valid media id"
    retry = await client.post(f"/messages/{message.id}/retry-media", headers=org.admin.headers)
    assert retry.status_code == 409


async def test_a_media_url_off_metas_hosts_gets_no_token(client, runtime, number, graph, web):
    org, account = number
    media_id = graph.add_media(account.token, b"%PDF-1.4", "application/pdf", url=f"{web.url}/headers")
    before = len(web.paths())
    await deliver(client, runtime, for_number(document(media_id), account.phone_number_id))

    message = await settled(runtime, org.id)
    assert message.media["state"] == MediaState.FAILED
    assert "not allowed" in message.media["lastError"]["message"]
    assert len(web.paths()) == before


async def test_a_redirect_from_the_media_url_to_another_host_is_refused(client, runtime, number, graph, web):
    org, account = number
    media_id = graph.add_media(
        account.token, b"%PDF-1.4", "application/pdf", redirect_to=f"{web.url}/headers"
    )
    before = len(web.paths())
    await deliver(client, runtime, for_number(document(media_id), account.phone_number_id))

    message = await settled(runtime, org.id)
    assert message.media["state"] == MediaState.FAILED
    assert len(web.paths()) == before


async def test_a_redirect_within_meta_is_followed(client, runtime, number, graph):
    org, account = number
    data = b"%PDF-1.4 " + uuid.uuid4().bytes
    target = graph.add_media(account.token, data, "application/pdf")
    media_id = graph.add_media(
        account.token, b"", "application/pdf", redirect_to=f"{graph.url}/media-download/{target}"
    )
    await deliver(client, runtime, for_number(document(media_id), account.phone_number_id))

    message = await settled(runtime, org.id)
    assert message.media["state"] == MediaState.DOWNLOADED, message.media
    assert (await runtime.storage.read(message.media["storageKey"]))[0] == data


async def test_a_300_character_filename_is_cut_and_the_media_downloaded(client, runtime, number, graph):
    org, account = number
    data = b"%PDF-1.4 " + uuid.uuid4().bytes
    media_id = graph.add_media(account.token, data, "application/pdf")
    name = "\u202e" + "é" * 298 + ".pdf"
    await deliver(client, runtime, for_number(document(media_id, filename=name), account.phone_number_id))

    message = await settled(runtime, org.id)
    assert message.media["state"] == MediaState.DOWNLOADED, message.media
    stored_name = message.media["storageKey"].rsplit("/", 1)[-1]
    assert stored_name.endswith(".pdf") and len(stored_name.encode()) <= 120
    assert "\u202e" not in stored_name
    assert (await runtime.storage.read(message.media["storageKey"]))[0] == data


async def test_a_storage_failure_is_recorded_as_failed(client, runtime, number, graph):
    org, account = number
    # a file where the organization's media folder belongs: the store fails (not a Graph error)
    (runtime.storage.root / "whatsapp-media").mkdir(parents=True, exist_ok=True)
    (runtime.storage.root / "whatsapp-media" / org.id).write_bytes(b"in the way")
    media_id = graph.add_media(account.token, b"%PDF-1.4", "application/pdf")
    await deliver(client, runtime, for_number(document(media_id), account.phone_number_id))

    message = await settled(runtime, org.id)
    assert message.media["state"] == MediaState.FAILED
    media = await listed_media(client, org, message)
    assert media["downloadState"] == "FAILED"
    assert media["lastError"]["message"].startswith("The media could not be stored")
    assert str(runtime.storage.root) not in media["lastError"]["message"]


async def test_a_download_that_keeps_failing_ends_failed_with_its_error(client, runtime, number, graph):
    org, account = number
    media_id = graph.add_media(account.token, b"%PDF-1.4", "application/pdf", failures=100)
    await deliver(client, runtime, for_number(document(media_id), account.phone_number_id))

    message = await settled(runtime, org.id)
    assert message.media["state"] == MediaState.FAILED
    assert message.media["attempts"] == 5 and graph.state.media[media_id].downloads == 5
    assert (await listed_media(client, org, message))["lastError"]["message"]


async def test_a_number_without_a_token_fails_its_downloads(client, runtime, number, graph):
    org, account = number
    media_id = graph.add_media(account.token, b"%PDF-1.4", "application/pdf")
    async with runtime.unit_of_work() as session:
        stored = await session.get(WhatsAppAccount, account.id)
        stored.access_token_encrypted = None
    await deliver(client, runtime, for_number(document(media_id), account.phone_number_id))

    message = await settled(runtime, org.id)
    assert message.media["state"] == MediaState.FAILED
    assert message.media["lastError"]["message"] == "The WhatsApp number has no access token"
