"""A shadow run's report: each side's answer to one customer turn, read from a recorded turn's trace
or from the draft's ``Thought``, and the totals over the turns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cxinbox.bot.thinking import Thought
from cxinbox.models.bot_turns import BotTurn, TurnDecision
from cxinbox.studio.shadow_schemas import ShadowAnswer, ShadowSide, ShadowTool, ShadowTotals, ShadowTurn

FAILED = "FAILED"


def recorded_answer(turn: BotTurn, reply: str | None, changing: Mapping[str, bool]) -> ShadowAnswer:
    trace = turn.trace or {}
    calls = trace.get("llmCalls") or []
    return ShadowAnswer(
        decision=(turn.decision or TurnDecision.FAILED).value,
        reply=reply,
        handoff_reason=turn.handoff_reason,
        input_tokens=sum(int(c.get("inputTokens") or 0) for c in calls),
        output_tokens=sum(int(c.get("outputTokens") or 0) for c in calls),
        latency_ms=int(trace.get("latencyMs") or 0),
        tools=_tools(trace, changing),
    )


def draft_answer(thought: Thought, changing: Mapping[str, bool]) -> ShadowAnswer:
    return ShadowAnswer(
        decision=(TurnDecision.HANDOFF if thought.handoff else TurnDecision.REPLIED).value,
        reply=thought.reply,
        handoff_reason=thought.handoff_reason,
        input_tokens=thought.usage.input_tokens,
        output_tokens=thought.usage.output_tokens,
        latency_ms=thought.latency_ms,
        tools=_tools(thought.trace, changing),
    )


def failed_answer(error: str) -> ShadowAnswer:
    return ShadowAnswer(
        decision=FAILED,
        reply=None,
        handoff_reason=None,
        input_tokens=0,
        output_tokens=0,
        latency_ms=0,
        tools=[],
        error=error[:500],
    )


def compared(turn: BotTurn, customer_text: str, active: ShadowAnswer, draft: ShadowAnswer) -> ShadowTurn:
    both = draft.decision != FAILED
    replied = active.decision == draft.decision == TurnDecision.REPLIED.value
    return ShadowTurn(
        turn_id=turn.id,
        conversation_id=turn.conversation_id or "",
        message_id=turn.message_id or "",
        customer_text=customer_text,
        recorded_at=turn.created_at,
        active=active,
        draft=draft,
        handoff_differs=both and _handed(active) != _handed(draft),
        reply_differs=replied and _normal(active.reply) != _normal(draft.reply),
    )


def totals(results: Sequence[ShadowTurn], skipped: int) -> ShadowTotals:
    answered = [r for r in results if r.draft.decision != FAILED]
    return ShadowTotals(
        turns_compared=len(answered),
        handoff_disagreements=sum(r.handoff_differs for r in answered),
        reply_differences=sum(r.reply_differs for r in answered),
        draft_failures=len(results) - len(answered),
        skipped=skipped,
        tools_simulated=sum(len(r.draft.tools) for r in answered),
        active=_side([r.active for r in answered]),
        draft=_side([r.draft for r in answered]),
    )


def _side(answers: Sequence[ShadowAnswer]) -> ShadowSide:
    def mean(values: list[int]) -> float | None:
        return round(sum(values) / len(values), 1) if values else None

    return ShadowSide(
        handoffs=sum(_handed(a) for a in answers),
        avg_input_tokens=mean([a.input_tokens for a in answers]),
        avg_output_tokens=mean([a.output_tokens for a in answers]),
        avg_latency_ms=mean([a.latency_ms for a in answers]),
    )


def _tools(trace: Mapping[str, Any], changing: Mapping[str, bool]) -> list[ShadowTool]:
    return [
        ShadowTool(
            name=str(t.get("name") or ""),
            changes_data=changing.get(str(t.get("toolId")), False),
            executed=bool(t.get("started")),
        )
        for t in trace.get("tools") or []
    ]


def _handed(answer: ShadowAnswer) -> bool:
    return answer.decision == TurnDecision.HANDOFF.value


def _normal(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()
