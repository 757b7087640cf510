"""``auto-categorize``: a new conversation is classified after its first customer message, and a
conversation of the bot again when it is handed off (then routed, so a rule on the category
applies)."""

from __future__ import annotations

from tests.fakes.llm import Reply
from tests.fixtures.wait import eventually

CATEGORIES = [
    {"name": "Ventas", "description": "Quiere comprar"},
    {"name": "Soporte", "description": "Algo falla"},
]


def category(name: str) -> Reply:
    return Reply("", tool_call=("set_category", {"category": name}))


async def test_classified_first_and_again_at_handoff_then_routed(bot):
    await bot.configure(category("Ventas"), category("Soporte"), categories=CATEGORIES, debounceSeconds=1)
    await bot.toggle("auto-categorize", True)
    body = {
        "name": "soporte",
        "teamId": bot.inbox.team_id,
        "conditions": [{"field": "category", "operator": "equals", "value": "Soporte"}],
    }
    r = await bot.client.post("/routing-rules", json=body, headers=bot.admin.headers)
    assert r.status_code == 201, r.text
    conversation_id = await bot.writes("quiero hablar con una persona, no funciona mi internet")

    async def categorized(name: str) -> bool:
        return (await bot.conversation(conversation_id)).category == name

    await eventually(lambda: categorized("Ventas"), "classified after the first message")
    [turn] = await bot.finished_turns(conversation_id)
    assert turn.handoff_reason == "CUSTOMER_REQUEST"
    await eventually(lambda: categorized("Soporte"), "classified again at handoff")
    await eventually(
        lambda: _team_is(bot, conversation_id, bot.inbox.team_id), "routed by the category's rule"
    )
    assert len(bot.llm.requests_with(bot.key)) == 2


async def test_without_auto_categorize_nothing_is_classified(bot):
    await bot.configure(Reply("Hola"), categories=CATEGORIES)
    conversation_id = await bot.writes("hola")
    await bot.finished_turns(conversation_id)
    assert (await bot.conversation(conversation_id)).category is None
    assert len(bot.llm.requests_with(bot.key)) == 1


async def _team_is(bot, conversation_id: str, team_id: str) -> bool:
    return (await bot.conversation(conversation_id)).team_id == team_id
