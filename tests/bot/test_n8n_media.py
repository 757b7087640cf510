"""/n8n/bot-response media answers: a file at a URL (fetched through the outbound guard, capped and
recognised by its bytes) or a file the organization stores (``mediaId``), uploaded to the Graph API
and sent as the bot; hostile URLs, oversized or mistyped bodies and other organizations' files
refused with 4xx, nothing sent."""

from __future__ import annotations

import hashlib
import ipaddress
import uuid

import pytest

from cxinbox.core import outbound
from cxinbox.models.inbox import MessageStatus
from tests.bot.test_n8n import _bot_conversation, _post
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import error_code
from tests.fixtures.sending import until_status

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n% the price list\n"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


def _guard_on(monkeypatch: pytest.MonkeyPatch, runtime) -> None:
    """The guard switched on, with 127.0.0.1 (the test's web server) playing a public host: every
    other address is judged as always, on each hop."""
    monkeypatch.setattr(runtime.settings, "allow_private_urls", False)
    judged = outbound.is_public_address
    first_hop = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(
        outbound, "is_public_address", lambda address: address == first_hop or judged(address)
    )


def _media(conversation: str, **message) -> dict:
    return {"conversationId": conversation, "message": message, "messageId": uuid.uuid4().hex}


async def _bot_messages(client, inbox, conversation) -> list[dict]:
    r = await client.get(f"/conversations/{conversation}/messages", headers=inbox.admin.headers)
    return [m for m in r.json()["data"] if m["senderType"] == "BOT"]


async def test_an_image_at_a_url_is_fetched_uploaded_and_sent_as_the_bot(
    inbox, client, llm, runtime, graph, web
):
    conversation = await _bot_conversation(inbox, client, llm, runtime)
    url = web.serve("talla-m.png", PNG, "image/png")
    payload = _media(conversation, type="image", url=url, caption="La chamarra en talla M")
    r = await _post(client, payload)
    assert r.status_code == 200, r.text
    sent_id = r.json()["data"]["messageId"]
    assert (await _post(client, payload)).json()["data"]["duplicate"] is True
    [message] = await _bot_messages(client, inbox, conversation)
    assert message["id"] == sent_id and message["type"] == "image"
    assert (
        message["media"]["mimeType"] == "image/png"
        and message["media"]["caption"] == "La chamarra en talla M"
    )
    assert message["media"]["sha256"] == hashlib.sha256(PNG).hexdigest()
    stored = await until_status(runtime, sent_id, MessageStatus.SENT)
    [request] = graph.sent_by(inbox.account.phone_number_id)
    assert request["image"]["caption"] == "La chamarra en talla M"
    media_id = request["image"]["id"]
    assert graph.state.uploads[media_id] == (inbox.account.phone_number_id, "talla-m.png", "image/png", PNG)
    assert stored.media["providerMediaId"] == media_id


async def test_a_document_keeps_its_name_and_a_stored_file_is_sent_by_its_id(
    inbox, client, llm, runtime, graph, web, factory
):
    conversation = await _bot_conversation(inbox, client, llm, runtime)
    r = await _post(
        client, _media(conversation, type="document", url=web.serve("precios.pdf", PDF, "application/pdf"))
    )
    assert r.status_code == 200, r.text
    first = r.json()["data"]["messageId"]
    await until_status(runtime, first, MessageStatus.SENT)
    # the same file again, by the id of the message that holds it
    r = await _post(client, _media(conversation, type="document", mediaId=first, caption="Otra vez"))
    assert r.status_code == 200, r.text
    again = await until_status(runtime, r.json()["data"]["messageId"], MessageStatus.SENT)
    assert (
        again.media["filename"] == "precios.pdf" and again.media["sha256"] == hashlib.sha256(PDF).hexdigest()
    )
    documents = [s["document"] for s in graph.sent_by(inbox.account.phone_number_id)]
    assert [d["filename"] for d in documents] == ["precios.pdf", "precios.pdf"]
    assert documents[1]["caption"] == "Otra vez"
    # as the wrong type, unknown, or another organization's
    r = await _post(client, _media(conversation, type="image", mediaId=first))
    assert r.status_code == 415 and error_code(r) == "UNSUPPORTED_MEDIA_TYPE"
    r = await _post(client, _media(conversation, type="document", mediaId=str(uuid.uuid4())))
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    other = await make_inbox(client, runtime, factory, graph)
    theirs = await _bot_conversation(other, client, llm, runtime)
    r = await _post(
        client, _media(theirs, type="document", url=web.serve("suyo.pdf", PDF, "application/pdf"))
    )
    assert r.status_code == 200, r.text
    r = await _post(client, _media(conversation, type="document", mediaId=r.json()["data"]["messageId"]))
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    assert len(await _bot_messages(client, inbox, conversation)) == 2


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ({"type": "image"}, 400),  # neither url nor mediaId
        ({"type": "image", "url": "http://example.com/a.png", "mediaId": "x"}, 400),
        ({"type": "audio", "mediaId": "x", "caption": "no"}, 400),
        ({"type": "image", "url": "x" * 2001}, 400),
        ({"type": "video", "mediaId": "x" * 101}, 400),
    ],
)
async def test_malformed_media_answers_are_400(inbox, client, llm, runtime, message, status):
    conversation = await _bot_conversation(inbox, client, llm, runtime)
    r = await _post(client, _media(conversation, **message))
    assert r.status_code == status and error_code(r) == "VALIDATION_ERROR"


async def test_wrong_types_and_oversized_bodies_are_refused(inbox, client, llm, runtime, web):
    conversation = await _bot_conversation(inbox, client, llm, runtime)
    cases = [
        # an HTML page claiming to be a picture
        ("image", web.serve("x.png", b"<html><script>alert(1)</script></html>", "image/png"), 415),
        # a real picture sent as a video, a PDF whose bytes are not one, a WebP (a sticker)
        ("video", web.serve("p.png", PNG, "image/png"), 415),
        ("document", web.serve("fake.pdf", b"MZ\x90\x00 an executable", "application/pdf"), 415),
        ("image", web.serve("s.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), 415),
        # over WhatsApp's 5 MB for images, streamed without a length
        ("image", f"{web.url}/stream?bytes={6 * 1024 * 1024}", 413),
        # the host answers 404
        ("video", f"{web.url}/files/missing.mp4", 400),
    ]
    for kind, url, status in cases:
        r = await _post(client, _media(conversation, type=kind, url=url))
        assert r.status_code == status, (kind, url, r.text)
    r = await _post(client, _media(conversation, type="video", url=web.serve("clip.mp4", MP4, "video/mp4")))
    assert r.status_code == 200, r.text
    assert [m["type"] for m in await _bot_messages(client, inbox, conversation)] == ["video"]


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/files/a.png",
        "http://2130706434:{port}/files/a.png",  # 127.0.0.2
    ],
)
async def test_private_addresses_and_redirects_to_them_are_refused(
    inbox, client, llm, runtime, web, monkeypatch, target
):
    conversation = await _bot_conversation(inbox, client, llm, runtime)
    _guard_on(monkeypatch, runtime)
    web.serve("a.png", PNG, "image/png")
    target = target.format(port=web.port)
    for url in (target, f"{web.url}/redirect?to={target}"):
        r = await _post(client, _media(conversation, type="image", url=url))
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", (url, r.text)
        assert r.json()["error"]["details"][0]["field"] == "message.url"
    # the same file from the host playing public is taken
    r = await _post(client, _media(conversation, type="image", url=f"{web.url}/files/a.png"))
    assert r.status_code == 200, r.text
    assert len(await _bot_messages(client, inbox, conversation)) == 1


async def test_a_media_answer_needs_the_bot_to_have_the_conversation_and_a_signature(
    inbox, client, llm, runtime, web
):
    conversation = await _bot_conversation(inbox, client, llm, runtime)
    url = web.serve("a.png", PNG, "image/png")
    r = await _post(client, _media(conversation, type="image", url=url), secret=None)
    assert r.status_code == 401 and error_code(r) == "INVALID_SIGNATURE"
    await client.post(f"/conversations/{conversation}/takeover", headers=inbox.admin.headers)
    fetched = len(web.paths())
    r = await _post(client, _media(conversation, type="image", url=url))
    assert r.status_code == 409 and error_code(r) == "NOT_BOT_HANDLING"
    assert len(web.paths()) == fetched  # refused before anything was fetched
    assert await _bot_messages(client, inbox, conversation) == []
