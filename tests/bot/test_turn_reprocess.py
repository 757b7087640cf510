"""POST /bot-config/reprocess-pending: a turn for each conversation of the bot whose customer is
waiting for it, in this organization only; answered at once with ``{reprocessed, errors, total}``."""

from __future__ import annotations

from cxinbox.core.clock import utcnow
from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.identity import Role
from cxinbox.models.inbox import ConversationStatus
from tests.bot.conftest import BotInbox, make_config
from tests.fakes.llm import Reply
from tests.fixtures.inbox import make_inbox, set_fields
from tests.fixtures.people import error_code

PATH = "/bot-config/reprocess-pending"


async def waiting_for_the_bot(bot: BotInbox, text: str = "¿hola?") -> str:
    """A conversation of the bot whose customer wrote while the bot was off (no turn ran)."""
    await bot.toggle("bot-enabled", False)
    conversation_id = await bot.writes(text)
    await set_fields(
        bot.runtime, conversation_id, status=ConversationStatus.BOT_HANDLING, last_inbound_at=utcnow()
    )
    await bot.toggle("bot-enabled", True)
    return conversation_id


async def test_reprocess_queues_a_turn_for_each_waiting_conversation(
    bot, client, runtime, factory, graph, llm
):
    answered = await bot.writes("hola")
    await bot.finished_turns(answered)
    await bot.sent_count(1)
    waiting = await waiting_for_the_bot(bot)
    theirs = BotInbox(await make_inbox(client, runtime, factory, graph), llm, graph)
    await theirs.configure()
    await theirs.toggle("bot-enabled", True)
    their_waiting = await waiting_for_the_bot(theirs)
    bot.answers(Reply("Perdón por la espera"))
    r = await client.post(PATH, headers=bot.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"data": {"reprocessed": 1, "errors": 0, "total": 1}}
    [turn] = await bot.finished_turns(waiting)
    assert turn.decision is TurnDecision.REPLIED
    assert [m.text for m in await bot.replies(waiting)] == ["Perdón por la espera"]
    assert await theirs.turns(their_waiting) == []  # another organization's conversation is not touched
    r = await client.post(PATH, headers=bot.admin.headers)
    assert r.json()["data"] == {"reprocessed": 0, "errors": 0, "total": 0}


async def test_reprocess_needs_an_admin_and_an_active_config(client, factory, llm):
    org = await factory.org()
    assert (await client.post(PATH)).status_code == 401
    for role in (Role.AGENT, Role.SUPERVISOR):
        member = await factory.member(org.id, role)
        r = await client.post(PATH, headers=member.headers)
        assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    r = await client.post(PATH, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    await make_config(client, org.admin.headers, llm)
    r = await client.post(PATH, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"reprocessed": 0, "errors": 0, "total": 0}
