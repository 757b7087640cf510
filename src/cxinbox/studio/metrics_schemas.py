"""Wire models of the bot's quality metrics (``/bot-config/metrics``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cxinbox.core.wire import ApiModel, UtcDatetime

RATE = "Sessions closed this way / sessions (null without sessions); a session still open counts in none"


class FeedbackCounts(ApiModel):
    positive: int = Field(description="Ratings 1 (helpful) given in the window")
    negative: int = Field(description="Ratings 0 (not helpful) given in the window")


class QualityOut(ApiModel):
    sessions: int = Field(description="Bot sessions started in the window")
    resolved_rate: float | None = Field(description=f"RESOLVED_CONFIRMED. {RATE}")
    escalation_rate: float | None = Field(description=f"ESCALATED. {RATE}")
    abandon_rate: float | None = Field(description=f"ABANDONED. {RATE}")
    avg_turns: float | None = Field(description="Bot turns per session of the window (2 decimals)")
    feedback: FeedbackCounts
    avg_latency_ms: int | None = Field(
        description="Mean LLM time of the window's turns that called the model (null: none did)"
    )


class SessionOut(ApiModel):
    id: str
    conversation_id: str
    bot_config_id: str | None
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    closure_type: str | None = Field(description="Null while the session is open")
    turns: int = Field(description="Bot turns taken during the session")


class TraceSummary(ApiModel):
    id: str = Field(description="The trace id (`traces/{traceId}`)")
    conversation_id: str | None = Field(description="Null for a sandbox turn")
    created_at: UtcDatetime
    decision: str | None
    handoff_reason: str | None
    sandbox: bool
    latency_ms: int
    llm_calls: int
    input_tokens: int
    output_tokens: int
    retrieved_chunks: int
    tools: int
    intent: str | None = Field(description="The intent that matched, by name")


class TraceTotals(ApiModel):
    traces: int
    replied: int
    handed_off: int
    avg_latency_ms: int | None = Field(description="Over the traces that called the model")
    input_tokens: int
    output_tokens: int


class TracesOut(ApiModel):
    days: int
    generated_at: UtcDatetime = Field(description="When the figures were computed (cached 60 s)")
    totals: TraceTotals
    traces: list[TraceSummary] = Field(description="Newest first, at most 200")


class PipelineStep(ApiModel):
    stage: str = Field(
        description="SCREENING, INTENT, RETRIEVAL, LLM, TOOL, HANDOFF, N8N or ERROR, in the order they ran"
    )
    detail: dict[str, Any]


class TraceOut(TraceSummary):
    message_id: str | None = Field(description="The customer message the turn answered")
    reply_message_id: str | None
    bot_config_id: str | None
    prompt_chars: int | None
    pipeline: list[PipelineStep]
    notes: list[str]
