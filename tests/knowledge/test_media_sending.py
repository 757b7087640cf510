"""Sending the bot's media (``send_bot_media``, what a MEDIA intent calls): BOT messages through the
outbound pipeline, each file uploaded to the (fake) Graph API once per number and its media id
reused until it is too old, never another organization's file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from cxinbox.core.clock import utcnow
from cxinbox.knowledge.media_sending import send_bot_media
from cxinbox.models.inbox import Conversation, MessageStatus, SenderType
from cxinbox.models.knowledge_media import BotMediaUpload
from cxinbox.whatsapp.outbound.compose import WindowClosed
from tests.fakes.graph import FakeGraph
from tests.fixtures.sending import make_thread, until_status
from tests.knowledge.media import PDF, image, uploaded


async def send(runtime, conversation_id: str, media_ids: list[str]) -> list[str]:
    async with runtime.unit_of_work() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        return [m.id for m in (await send_bot_media(session, runtime, conversation, media_ids)).values()]


def uploads_by(graph: FakeGraph, phone_number_id: str) -> list[str]:
    return [media_id for media_id, upload in graph.state.uploads.items() if upload[0] == phone_number_id]


async def sent_media_ids(runtime, graph: FakeGraph, thread, message_ids: list[str]) -> list[str]:
    for message_id in message_ids:
        await until_status(runtime, message_id, MessageStatus.SENT)
    sent = graph.sent_by(thread.number)[-len(message_ids) :]
    return [payload[payload["type"]]["id"] for payload in sent]


async def test_a_file_is_uploaded_once_per_number_and_its_id_reused(client, runtime, graph, factory):
    org = await factory.org()
    first = await make_thread(runtime, graph, org)
    second = await make_thread(runtime, graph, org, account=first.account)
    photo = await uploaded(client, org.admin, "tienda.png", image(), "image/png")
    catalogue = await uploaded(client, org.admin, "catalogo.pdf", PDF, "application/pdf")

    ids = await send(runtime, first.id, [photo["id"], catalogue["id"]])
    messages = [await until_status(runtime, i, MessageStatus.SENT) for i in ids]
    assert [(m.sender_type, m.type.value) for m in messages] == [
        (SenderType.BOT, "image"),
        (SenderType.BOT, "document"),
    ]
    uploads = uploads_by(graph, first.number)
    assert len(uploads) == 2 and graph.state.uploads[uploads[1]][1:3] == ("catalogo.pdf", "application/pdf")
    sent = graph.sent_by(first.number)[-2:]
    assert [p["type"] for p in sent] == ["image", "document"]
    assert [p[p["type"]]["id"] for p in sent] == uploads and sent[1]["document"]["filename"] == "catalogo.pdf"
    assert messages[0].media and messages[0].media["providerMediaId"] == uploads[0]

    # the same number, another conversation: the kept id, no upload
    again = await send(runtime, second.id, [photo["id"]])
    assert await sent_media_ids(runtime, graph, second, again) == [uploads[0]]
    assert uploads_by(graph, first.number) == uploads

    # another number of the organization: its own upload
    third = await make_thread(runtime, graph, org)
    elsewhere = await send(runtime, third.id, [photo["id"]])
    assert await sent_media_ids(runtime, graph, third, elsewhere) == uploads_by(graph, third.number)
    assert len(uploads_by(graph, third.number)) == 1

    # an id about to expire at Meta is not used: the file is uploaded again, and that id kept
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(BotMediaUpload)
            .where(BotMediaUpload.whatsapp_account_id == first.account.id)
            .values(uploaded_at=utcnow() - timedelta(days=29, minutes=1))
        )
    renewed = await send(runtime, first.id, [photo["id"]])
    [new_id] = await sent_media_ids(runtime, graph, first, renewed)
    assert new_id not in uploads and uploads_by(graph, first.number) == [*uploads, new_id]
    later = await send(runtime, second.id, [photo["id"]])
    assert await sent_media_ids(runtime, graph, second, later) == [new_id]


async def test_only_the_organizations_own_media_and_only_in_the_window(client, runtime, graph, factory):
    org, other = await factory.org(), await factory.org()
    thread = await make_thread(runtime, graph, org)
    theirs = await uploaded(client, other.admin, "secreto.pdf", PDF, "application/pdf")
    ours = await uploaded(client, org.admin, "menu.pdf", PDF, "application/pdf")
    ids = await send(runtime, thread.id, [theirs["id"], "no-such-id", ours["id"]])
    assert len(ids) == 1
    assert await sent_media_ids(runtime, graph, thread, ids) == uploads_by(graph, thread.number)
    assert [graph.state.uploads[u][1] for u in uploads_by(graph, thread.number)] == ["menu.pdf"]

    closed = await make_thread(runtime, graph, org, last_inbound=None)
    with pytest.raises(WindowClosed):
        await send(runtime, closed.id, [ours["id"]])
    assert uploads_by(graph, closed.number) == []
