"""Wire models of shadow runs (``/bot-config/{id}/shadow-runs``): the request, and the report that
sets a config's answers beside what the active config answered to the same customer turns."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples
from cxinbox.models.bot_shadow_runs import ShadowRunStatus

MAX_TURNS = 200
DEFAULT_TURNS = 50


class StartShadowRun(RequestModel):
    model_config = examples(
        {"turns": 50}, {"turns": 20, "conversationIds": ["7d0c8f5e-2b1a-4c3d-9e8f-0a1b2c3d4e5f"]}
    )

    turns: Annotated[int, Field(ge=1, le=MAX_TURNS)] = Field(
        default=DEFAULT_TURNS,
        description=f"How many recorded customer turns to replay, newest first (1..{MAX_TURNS})",
    )
    conversation_ids: (
        Annotated[list[Annotated[str, Field(max_length=36)]], Field(max_length=MAX_TURNS)] | None
    ) = Field(
        default=None, description="Only the turns of these conversations (each must be the organization's)"
    )


class ShadowTool(ApiModel):
    name: str
    changes_data: bool = Field(description="The tool changes something on the business's side")
    executed: bool = Field(
        description="The call was made: by the recorded turn; never by the shadowed config"
    )


class ShadowAnswer(ApiModel):
    decision: str = Field(description="REPLIED, HANDOFF, or FAILED (the draft's LLM failed: `error`)")
    reply: str | None
    handoff_reason: str | None
    input_tokens: int
    output_tokens: int
    latency_ms: int = Field(description="Time spent in the LLM calls of the turn")
    tools: list[ShadowTool]
    error: str | None = None


class ShadowTurn(ApiModel):
    turn_id: str = Field(description="The recorded turn (a trace: `metrics/traces/{traceId}`)")
    conversation_id: str
    message_id: str
    customer_text: str
    recorded_at: UtcDatetime
    active: ShadowAnswer = Field(description="What the active config answered then")
    draft: ShadowAnswer = Field(description="What the shadowed config answers now, nothing sent")
    handoff_differs: bool
    reply_differs: bool = Field(description="Both replied, with different texts")


class ShadowSide(ApiModel):
    handoffs: int
    avg_input_tokens: float | None
    avg_output_tokens: float | None
    avg_latency_ms: float | None


class ShadowTotals(ApiModel):
    turns_compared: int = Field(description="Turns both configs answered (the draft's failures excluded)")
    handoff_disagreements: int
    reply_differences: int
    draft_failures: int
    skipped: int = Field(
        description="Recorded turns gone since the run was asked for (deleted conversations)"
    )
    tools_simulated: int = Field(description="Tool calls the draft made, none executed")
    active: ShadowSide
    draft: ShadowSide


class ShadowRunOut(ApiModel):
    id: str
    bot_config_id: str
    active_config_id: str | None
    replay: bool = Field(description="The shadowed config is the one whose turns are replayed")
    status: ShadowRunStatus
    requested_turns: int
    progress: int = Field(description="Turns replayed so far")
    error: str | None
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    totals: ShadowTotals | None = Field(description="Null until the first turn is replayed")


class ShadowRunDetail(ShadowRunOut):
    results: list[ShadowTurn] = Field(description="Turn by turn, newest recorded turn first")
