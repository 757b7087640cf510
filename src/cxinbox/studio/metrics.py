"""The bot's quality metrics, read from its recorded sessions (``bot_sessions``), turns and their
traces (``bot_turns``) and the members' feedback.

A window is the last ``days`` days up to now. A session belongs to the window it started in; a turn
to the one it was taken in. Only finished turns count (a running one has no trace yet), and a turn
belongs to a session when it was taken on its conversation while the session was open. A turn
"called the model" when its trace has an LLM call: only those make the latency figures, so a turn
answered by an intent's fixed response does not pull the mean down. Both are kept by triggers
(revision 0225) as ``bot_sessions.turns`` and ``bot_turns.model_latency_ms``, and the figures of
every day by further triggers (revision 0229, ``metric_days``): ``quality`` and the count of
``sessions`` read the window's whole days from those and only its first, partial day from the rows.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.core.cache import ExpiringStore
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import NotFound
from cxinbox.core.pagination import PageParams
from cxinbox.models.bot_metric_days import BotDayMetric
from cxinbox.models.bot_sessions import BotSession, BotSessionClosure
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.studio.metric_days import SESSION_METRICS, figures
from cxinbox.studio.metrics_schemas import (
    FeedbackCounts,
    PipelineStep,
    QualityOut,
    SessionOut,
    TraceOut,
    TracesOut,
    TraceSummary,
    TraceTotals,
)

TRACES_CACHE_SECONDS = 60
LISTED_TRACES = 200


def _since(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def _rate(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 4)


async def quality(session: AsyncSession, principal: Principal, days: int) -> QualityOut:
    m = await figures(session, principal.tenant.organization_id, _since(days), list(BotDayMetric))
    sessions = sum(m[name] for name in SESSION_METRICS)
    latency_turns = m[BotDayMetric.LATENCY_TURNS]
    return QualityOut(
        sessions=sessions,
        resolved_rate=_rate(m[BotDayMetric.RESOLVED_CONFIRMED], sessions),
        escalation_rate=_rate(m[BotDayMetric.ESCALATED], sessions),
        abandon_rate=_rate(m[BotDayMetric.ABANDONED], sessions),
        avg_turns=None if not sessions else round(m[BotDayMetric.TURNS] / sessions, 2),
        feedback=FeedbackCounts(positive=m[BotDayMetric.HELPFUL], negative=m[BotDayMetric.NOT_HELPFUL]),
        avg_latency_ms=None if not latency_turns else round(m[BotDayMetric.LATENCY_MS] / latency_turns),
    )


async def sessions_page(
    session: AsyncSession,
    principal: Principal,
    days: int,
    closure: BotSessionClosure | None,
    params: PageParams,
) -> tuple[list[SessionOut], int]:
    """The page in the order of ``ix_bot_sessions_org_started`` (or, filtered by closure,
    ``ix_bot_sessions_org_closure_started``); the total from the days."""
    organization_id, since = principal.tenant.organization_id, _since(days)
    counted = SESSION_METRICS if closure is None else [BotDayMetric(closure.value)]
    total = sum((await figures(session, organization_id, since, counted)).values())
    stmt = select(BotSession).where(
        BotSession.organization_id == organization_id, BotSession.started_at >= since
    )
    if closure is not None:
        stmt = stmt.where(BotSession.closure_type == closure)
    stmt = stmt.order_by(BotSession.started_at.desc(), BotSession.id.desc())
    rows = (await session.scalars(stmt.limit(params.limit).offset(params.offset))).all()
    return [
        SessionOut(
            id=s.id,
            conversation_id=s.conversation_id,
            bot_config_id=s.bot_config_id,
            started_at=s.started_at,
            ended_at=s.ended_at,
            closure_type=s.closure_type,
            turns=s.turns,
        )
        for s in rows
    ], total


def _turns_since(organization_id: str, since: datetime) -> list[ColumnElement[bool]]:
    return [
        BotTurn.organization_id == organization_id,
        BotTurn.state == TurnState.DONE,
        BotTurn.created_at >= since,
    ]


async def traces(
    session: AsyncSession, cache: ExpiringStore, principal: Principal, days: int, *, force: bool
) -> TracesOut:
    """The window's traces, computed at most once a minute per organization and window unless
    ``force``."""
    key = f"bot-traces:{principal.tenant.organization_id}:{days}"
    if not force and (cached := await cache.get(key)) is not None:
        return TracesOut.model_validate_json(cached)
    rows = (
        await session.scalars(
            select(BotTurn)
            .where(*_turns_since(principal.tenant.organization_id, _since(days)))
            .order_by(BotTurn.created_at.desc(), BotTurn.id.desc())
        )
    ).all()
    summaries = [summary(t) for t in rows]
    called = [s.latency_ms for s in summaries if s.llm_calls]
    answer = TracesOut(
        days=days,
        generated_at=utcnow(),
        totals=TraceTotals(
            traces=len(summaries),
            replied=sum(s.decision == TurnDecision.REPLIED for s in summaries),
            handed_off=sum(s.decision == TurnDecision.HANDOFF for s in summaries),
            avg_latency_ms=round(sum(called) / len(called)) if called else None,
            input_tokens=sum(s.input_tokens for s in summaries),
            output_tokens=sum(s.output_tokens for s in summaries),
        ),
        traces=summaries[:LISTED_TRACES],
    )
    await cache.put(key, answer.model_dump_json(by_alias=True), TRACES_CACHE_SECONDS)
    return answer


def summary(turn: BotTurn) -> TraceSummary:
    trace = turn.trace or {}
    calls = trace.get("llmCalls") or []
    return TraceSummary(
        id=turn.id,
        conversation_id=turn.conversation_id,
        created_at=turn.created_at,
        decision=turn.decision,
        handoff_reason=turn.handoff_reason,
        sandbox=turn.conversation_id is None,
        latency_ms=int(trace.get("latencyMs") or 0),
        llm_calls=len(calls),
        input_tokens=sum(int(c.get("inputTokens") or 0) for c in calls),
        output_tokens=sum(int(c.get("outputTokens") or 0) for c in calls),
        retrieved_chunks=len(trace.get("retrieval") or []),
        tools=len(trace.get("tools") or []),
        intent=(trace.get("intent") or {}).get("name"),
    )


async def trace(session: AsyncSession, principal: Principal, trace_id: str) -> TraceOut:
    turn = await session.scalar(
        select(BotTurn).where(
            BotTurn.id == trace_id,
            BotTurn.organization_id == principal.tenant.organization_id,
            BotTurn.state == TurnState.DONE,
        )
    )
    if turn is None:
        raise NotFound("Trace not found")
    recorded = turn.trace or {}
    return TraceOut(
        **summary(turn).model_dump(),
        message_id=turn.message_id,
        reply_message_id=turn.reply_message_id,
        bot_config_id=turn.bot_config_id,
        prompt_chars=recorded.get("promptChars"),
        pipeline=pipeline(recorded),
        notes=[str(n) for n in recorded.get("notes") or []],
    )


def pipeline(recorded: dict[str, Any]) -> list[PipelineStep]:
    """The trace's stages in the order the turn runs them: screening, the intent, retrieval, the
    model's calls and the tools, the handoff; an N8N turn's post, and the failed attempts."""
    steps: list[PipelineStep] = []

    def add(stage: str, detail: Any) -> None:
        steps.append(PipelineStep(stage=stage, detail=json.loads(json.dumps(detail, default=str))))

    if "screening" in recorded:
        add("SCREENING", recorded["screening"])
    if "intent" in recorded:
        add("INTENT", recorded["intent"])
    if recorded.get("retrieval"):
        add("RETRIEVAL", {"chunks": recorded["retrieval"]})
    for call in recorded.get("llmCalls") or []:
        add("LLM", call)
    for tool in recorded.get("tools") or []:
        add("TOOL", tool)
    if "n8n" in recorded:
        add("N8N", recorded["n8n"])
    for error in recorded.get("errors") or []:
        add("ERROR", error)
    if recorded.get("handoff"):
        add("HANDOFF", recorded["handoff"])
    return steps
