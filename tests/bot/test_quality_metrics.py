"""The bot's quality metrics over turns taken through real webhooks: one conversation answered and
then resolved with the bot, another handed off by the model; each figure read back exactly."""

from __future__ import annotations

from tests.fakes.llm import Reply

HANDOFF = Reply(
    "",
    tool_call=("handoff_to_human", {"reason": "reembolso", "summary": "Pide un reembolso"}),
    input_tokens=30,
    output_tokens=4,
)


async def test_quality_sessions_and_traces_of_real_turns(bot):
    bot.answers(Reply("¡Hola! ¿En qué te ayudo?", input_tokens=40, output_tokens=9), HANDOFF)
    answered = await bot.writes("hola, tengo una duda", wa_id="5215550002001")
    [replied] = await bot.finished_turns(answered)
    handed = await bot.writes("quiero un reembolso", wa_id="5215550002002")
    [handoff] = await bot.finished_turns(handed)
    r = await bot.client.post(f"/conversations/{answered}/resolve", headers=bot.admin.headers)
    assert r.status_code == 200, r.text
    headers = bot.admin.headers

    r = await bot.client.get("/bot-config/metrics/quality", headers=headers)
    assert r.status_code == 200, r.text
    latencies = [replied.trace["latencyMs"], handoff.trace["latencyMs"]]
    assert r.json()["data"] == {
        "sessions": 2,
        "resolvedRate": 0.5,
        "escalationRate": 0.5,
        "abandonRate": 0.0,
        "avgTurns": 1.0,
        "feedback": {"positive": 0, "negative": 0},
        "avgLatencyMs": round(sum(latencies) / 2),
    }

    r = await bot.client.get("/bot-config/metrics/sessions?closureType=ESCALATED", headers=headers)
    [escalated] = r.json()["data"]
    assert (escalated["conversationId"], escalated["turns"]) == (handed, 1)

    r = await bot.client.get("/bot-config/metrics/traces", headers=headers)
    totals = r.json()["data"]["totals"]
    assert totals == {
        "traces": 2,
        "replied": 1,
        "handedOff": 1,
        "avgLatencyMs": round(sum(latencies) / 2),
        "inputTokens": 70,
        "outputTokens": 13,
    }
    r = await bot.client.get(f"/bot-config/metrics/traces/{handoff.id}", headers=headers)
    data = r.json()["data"]
    assert [s["stage"] for s in data["pipeline"]] == ["LLM", "HANDOFF"]
    assert data["pipeline"][1]["detail"]["said"] == "reembolso"
    assert (data["conversationId"], data["handoffReason"]) == (handed, "HANDOFF_TOOL")
