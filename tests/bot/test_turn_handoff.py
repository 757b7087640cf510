"""What hands a conversation of the bot to the humans (OPEN, routed, the reason on the timeline):
the handoff tool (its summary kept), the customer asking for a person, an intent, an LLM that keeps
failing (retried first, its Retry-After honoured) or refuses the key, and the plan's monthly replies
used up (never a 402 to the webhook)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.identity import Organization
from cxinbox.models.inbox import ConversationStatus, ConversationTimelineEntry, TimelineKind
from tests.fakes.llm import Reply
from tests.fixtures.factories import update_rows


@pytest.fixture
async def routed(bot):
    """The organization's default team takes what the bot hands off."""
    r = await bot.client.put(
        "/routing-rules/default-team", json={"teamId": bot.inbox.team_id}, headers=bot.admin.headers
    )
    assert r.status_code == 200, r.text
    return bot


async def handed_off(bot, conversation_id: str, reason: str):
    [turn] = await bot.finished_turns(conversation_id)
    assert turn.decision is TurnDecision.HANDOFF and turn.handoff_reason == reason
    conversation = await bot.conversation(conversation_id)
    assert conversation.status is ConversationStatus.OPEN
    async with bot.runtime.sessionmaker() as session:
        reasons = await session.scalars(
            select(ConversationTimelineEntry.reason).where(
                ConversationTimelineEntry.conversation_id == conversation_id,
                ConversationTimelineEntry.kind == TimelineKind.STATUS,
                ConversationTimelineEntry.to_value == "OPEN",
            )
        )
        assert list(reasons) == [reason]
    assert await bot.replies(conversation_id) == []
    return turn, conversation


async def test_the_handoff_tool_hands_over_with_its_summary(routed):
    routed.answers(
        Reply("", tool_call=("handoff_to_human", {"reason": "reembolso", "summary": "Pide un reembolso"}))
    )
    conversation_id = await routed.writes("quiero que me devuelvan el dinero")
    turn, conversation = await handed_off(routed, conversation_id, "HANDOFF_TOOL")
    assert turn.trace["handoff"]["summary"] == "Pide un reembolso"
    assert conversation.team_id == routed.inbox.team_id


@pytest.mark.parametrize(
    "text",
    [
        "Quiero hablar con una persona",
        "agente",
        "HUMANO por favor",
        "can I talk to a human?",
        "real person pls",
    ],
)
async def test_asking_for_a_person_hands_over_without_the_model(routed, text):
    conversation_id = await routed.writes(text)
    _, conversation = await handed_off(routed, conversation_id, "CUSTOMER_REQUEST")
    assert conversation.team_id == routed.inbox.team_id
    assert routed.llm.requests_with(routed.key) == []


async def test_without_handoff_on_request_the_model_answers_such_a_message(bot):
    await bot.bot_mode(handoffOnRequest=False)
    bot.answers(Reply("Te ayudo yo"))
    conversation_id = await bot.writes("quiero hablar con una persona")
    [turn] = await bot.finished_turns(conversation_id)
    assert turn.decision is TurnDecision.REPLIED


async def test_a_failing_model_is_retried_then_hands_over(routed):
    routed.answers(*(Reply(status=503, retry_after=1) for _ in range(3)))
    conversation_id = await routed.writes("hola")
    turn, _ = await handed_off(routed, conversation_id, "LLM_ERROR")
    assert len(routed.llm.requests_with(routed.key)) == 3 and turn.failures == 3
    assert [e["reason"] for e in turn.trace["errors"]] == ["LLM_UNAVAILABLE"] * 3


async def test_a_rate_limited_model_is_asked_again_after_its_retry_after(bot):
    bot.answers(Reply(status=429, retry_after=1), Reply("Ya estoy"))
    conversation_id = await bot.writes("hola")
    [turn] = await bot.finished_turns(conversation_id)
    assert turn.decision is TurnDecision.REPLIED and turn.failures == 1
    first, second = bot.llm.requests_with(bot.key)
    await bot.sent_count(1)


async def test_a_refused_key_hands_over_at_once(routed):
    await routed.client.put(
        "/bot-config", json={"apiKey": "sk-nobody-knows-this-one"}, headers=routed.admin.headers
    )
    conversation_id = await routed.writes("hola")
    await handed_off(routed, conversation_id, "LLM_AUTH")


async def test_the_monthly_replies_used_up_hand_over(routed):
    await update_rows(
        routed.runtime,
        Organization,
        Organization.id == routed.inbox.org.id,
        limit_overrides={"monthlyBotReplies": 0},
    )
    conversation_id = await routed.writes("hola")
    await handed_off(routed, conversation_id, "PLAN_LIMIT")
    assert routed.llm.requests_with(routed.key) == []


async def test_intents_answer_or_hand_over_before_the_model(routed):
    h = routed.admin.headers
    for body in (
        {"name": "horario", "examples": ["horario"], "action": "REPLY", "response": "Abrimos de 9 a 18."},
        {
            "name": "ventas",
            "examples": ["comprar"],
            "action": "HANDOFF",
            "handoffTeamId": routed.inbox.team_id,
        },
        {
            "name": "catalogo",
            "examples": ["catalogo"],
            "action": "MEDIA",
            "response": "Nuestro catálogo:",
            "mediaIds": ["media-1"],
        },
    ):
        r = await routed.client.post("/bot-config/intents", json=body, headers=h)
        assert r.status_code == 201, r.text
    hours = await routed.writes("¿Cuál es su horario?")
    [turn] = await routed.finished_turns(hours)
    assert turn.decision is TurnDecision.REPLIED and turn.trace["intent"]["name"] == "horario"
    assert [m.text for m in await routed.replies(hours)] == ["Abrimos de 9 a 18."]
    catalogue = await routed.writes("mándame el catálogo")
    [turn] = await routed.finished_turns(catalogue)
    assert [m.text for m in await routed.replies(catalogue)] == ["Nuestro catálogo:"]
    assert turn.trace["media"] == {"sent": [], "notSent": ["media-1"]}
    assert turn.trace["notes"] == ["media not sent (deleted, or not the organization's): media-1"]
    buy = await routed.writes("quiero comprar")
    _, conversation = await handed_off(routed, buy, "INTENT")
    assert conversation.team_id == routed.inbox.team_id
    assert routed.llm.requests_with(routed.key) == []
