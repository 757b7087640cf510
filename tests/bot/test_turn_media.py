"""A MEDIA intent sends its text and then its files through WhatsApp in the same turn, once: webhook
in, the intent matched, the fake Graph API receives the text and the media, each file uploaded once
per number and its id reused; an id that is not the organization's media sends nothing."""

from __future__ import annotations

from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.inbox import SenderType
from tests.bot.conftest import BotInbox
from tests.knowledge.media import PDF, image, uploaded


def uploads(bot: BotInbox) -> list[str]:
    number = bot.inbox.account.phone_number_id
    return [media_id for media_id, upload in bot.graph.state.uploads.items() if upload[0] == number]


async def test_a_media_intent_sends_its_text_and_files_once(bot, factory):
    photo = await uploaded(bot.client, bot.admin, "tienda.png", image(), "image/png")
    gone = await uploaded(bot.client, bot.admin, "viejo.pdf", PDF, "application/pdf")
    r = await bot.client.delete(f"/bot-config/media/{gone['id']}", headers=bot.admin.headers)
    assert r.status_code == 200, r.text
    stranger = await factory.org()
    theirs = await uploaded(bot.client, stranger.admin, "secreto.pdf", PDF, "application/pdf")
    media_ids = [theirs["id"], photo["id"], gone["id"]]
    r = await bot.client.post(
        "/bot-config/intents",
        json={
            "name": "tienda",
            "examples": ["tienda"],
            "action": "MEDIA",
            "response": "Así es nuestra tienda:",
            "mediaIds": media_ids,
        },
        headers=bot.admin.headers,
    )
    assert r.status_code == 201, r.text

    first = await bot.writes("¿cómo es la tienda?", wa_id="5215550002001")
    [turn] = await bot.finished_turns(first)
    text, picture = await bot.sent_count(2)
    assert text["text"]["body"] == "Así es nuestra tienda:"
    [upload] = uploads(bot)
    assert picture["type"] == "image" and picture["image"]["id"] == upload
    replies = await bot.replies(first)
    assert [(m.sender_type, m.type.value) for m in replies] == [
        (SenderType.BOT, "text"),
        (SenderType.BOT, "image"),
    ]
    assert turn.decision is TurnDecision.REPLIED and turn.reply_message_id == replies[0].id
    assert turn.trace["media"] == {
        "sent": [{"mediaId": photo["id"], "messageId": replies[1].id}],
        "notSent": [theirs["id"], gone["id"]],
    }
    assert turn.trace["notes"] == [
        f"media not sent (deleted, or not the organization's): {theirs['id']}, {gone['id']}"
    ]
    assert bot.llm.requests_with(bot.key) == []

    # another conversation of the number: the kept Graph id, no second upload
    second = await bot.writes("la tienda por favor", wa_id="5215550002002")
    await bot.finished_turns(second)
    *_, text, picture = await bot.sent_count(4)
    assert text["text"]["body"] == "Así es nuestra tienda:" and picture["image"]["id"] == upload
    assert uploads(bot) == [upload]
    assert len(bot.sent()) == 4
