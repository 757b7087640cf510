"""Which new conversations start with the bot: the ``bot-enabled`` toggle with an active config, the
bot-mode flags (``outsideHoursOnly``, ``handlesReopened``) and maintenance; the others are routed."""

from __future__ import annotations

from cxinbox.models.inbox import ConversationStatus
from tests.fixtures.inbox import set_fields


async def routing_settings(bot, path: str, body: dict) -> None:
    r = await bot.client.put(f"/routing-rules/{path}", json=body, headers=bot.admin.headers)
    assert r.status_code == 200, r.text


async def status_of(bot, conversation_id: str) -> ConversationStatus:
    return (await bot.conversation(conversation_id)).status


async def test_with_the_bot_on_a_new_conversation_starts_with_the_bot(bot):
    conversation_id = await bot.writes("hola")
    assert await status_of(bot, conversation_id) is ConversationStatus.BOT_HANDLING
    assert (await bot.conversation(conversation_id)).team_id is None  # routed at handoff, not now
    r = await bot.client.get(f"/conversations/{conversation_id}", headers=bot.admin.headers)
    assert r.json()["data"]["status"] == "BOT_HANDLING"


async def test_with_the_bot_off_or_without_an_active_config_conversations_are_routed(bot):
    await routing_settings(bot, "default-team", {"teamId": bot.inbox.team_id})
    await bot.toggle("bot-enabled", False)
    off = await bot.writes("hola")
    assert await status_of(bot, off) is ConversationStatus.OPEN
    assert (await bot.conversation(off)).team_id == bot.inbox.team_id
    await bot.toggle("bot-enabled", True)
    r = await bot.client.post("/bot-config", json={"name": "draft"}, headers=bot.admin.headers)
    assert r.status_code == 201, r.text
    r = await bot.client.put(f"/bot-config/{r.json()['data']['id']}/activate", headers=bot.admin.headers)
    assert r.status_code == 200, r.text
    r = await bot.client.delete(f"/bot-config/{bot.config['id']}", headers=bot.admin.headers)
    assert r.status_code in (200, 204), r.text
    assert await status_of(bot, await bot.writes("hola")) is ConversationStatus.BOT_HANDLING


async def test_outside_hours_only_takes_conversations_only_while_closed(bot):
    await bot.bot_mode(outsideHoursOnly=True)
    open_hours = await bot.writes("hola")  # business hours off: always open
    assert await status_of(bot, open_hours) is ConversationStatus.OPEN
    await routing_settings(bot, "business-hours", {"timezone": "UTC", "isEnabled": True})  # no slots: closed
    assert await status_of(bot, await bot.writes("hola")) is ConversationStatus.BOT_HANDLING


async def test_a_returning_contact_starts_with_the_bot_only_with_handles_reopened(bot):
    wa_id = "5215551234567"
    first = await bot.writes("hola", wa_id=wa_id)
    await set_fields(bot.runtime, first, status=ConversationStatus.CLOSED)
    again = await bot.writes("hola otra vez", wa_id=wa_id)
    assert again != first and await status_of(bot, again) is ConversationStatus.BOT_HANDLING
    await bot.bot_mode(handlesReopened=False)
    await set_fields(bot.runtime, again, status=ConversationStatus.CLOSED)
    third = await bot.writes("sigo aquí", wa_id=wa_id)
    assert await status_of(bot, third) is ConversationStatus.OPEN
    assert await status_of(bot, await bot.writes("soy nuevo")) is ConversationStatus.BOT_HANDLING


async def test_maintenance_keeps_the_bot_out(bot):
    await routing_settings(
        bot, "maintenance", {"maintenanceMode": True, "maintenanceMessage": "En mantenimiento"}
    )
    conversation_id = await bot.writes("hola")
    assert await status_of(bot, conversation_id) is ConversationStatus.OPEN
