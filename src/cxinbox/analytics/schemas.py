"""The analytics endpoints' wire models (all our addition: the reference documents no response)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from cxinbox.analytics import definitions as d
from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, examples


class RangeOut(ApiModel):
    start: datetime = Field(alias="from", description="The range's start (inclusive), UTC")
    end: datetime = Field(alias="to", description="The range's end (exclusive), UTC")
    timezone: str
    granularity: str = Field(description="`day` or `hour`: what one series point covers")


class Durations(ApiModel):
    __doc__ = d.DURATIONS

    count: int
    p50_seconds: float | None
    p90_seconds: float | None
    mean_seconds: float | None


class FirstResponse(Durations):
    unanswered: int = Field(description="Conversations with a customer message and no reply yet")


class ConversationTotals(ApiModel):
    new: int = Field(description=d.NEW_CONVERSATIONS)
    closed: int = Field(description=d.CLOSED_CONVERSATIONS)


class MessageTotals(ApiModel):
    inbound: int = Field(description=d.INBOUND_MESSAGES)
    outbound: int = Field(description=d.OUTBOUND_MESSAGES)


class BotFigures(ApiModel):
    conversations: int = Field(description=d.BOT_CONVERSATIONS)
    handed_off: int = Field(description=d.BOT_HANDOFF)
    resolved: int = Field(description=d.BOT_RESOLVED)
    resolution_rate: float | None = Field(description=d.BOT_RATES)
    handoff_rate: float | None = Field(description=d.BOT_RATES)


class SeriesPoint(ApiModel):
    start: datetime = Field(description="UTC")
    end: datetime = Field(description="UTC")
    local_start: str = Field(
        description="The bucket's start as wall-clock time in `timezone`, with its offset"
    )
    new_conversations: int
    closed_conversations: int
    inbound_messages: int
    outbound_messages: int


class OverviewOut(ApiModel):
    range: RangeOut
    conversations: ConversationTotals
    messages: MessageTotals
    first_response: FirstResponse = Field(description=d.FIRST_RESPONSE)
    resolution: Durations = Field(description=d.RESOLUTION)
    bot: BotFigures
    series: list[SeriesPoint]


class Count(ApiModel):
    key: str | None = Field(description="The group's value (null: none)")
    count: int


class ConversationsOut(ApiModel):
    range: RangeOut
    totals: ConversationTotals
    first_response: FirstResponse = Field(description=d.FIRST_RESPONSE)
    resolution: Durations = Field(description=d.RESOLUTION)
    by_category: list[Count] = Field(description="New conversations by category")
    by_team: list[Count] = Field(description="New conversations by the team routing gave them (key: team id)")
    by_status: list[Count] = Field(description="New conversations by their status now")
    by_origin: list[Count] = Field(description="New conversations by who started them")
    series: list[SeriesPoint]


class AgentRow(ApiModel):
    user_id: str
    name: str
    role: str
    assigned: int = Field(description=d.AGENT_ASSIGNED)
    resolved: int = Field(description=d.AGENT_RESOLVED)
    messages_sent: int = Field(description=d.AGENT_MESSAGES)
    first_response: Durations = Field(description=d.AGENT_FIRST_RESPONSE)


class AgentsOut(ApiModel):
    range: RangeOut
    agents: list[AgentRow] = Field(description=d.AGENT_ROWS)


class Funnel(ApiModel):
    recipients: int
    pending: int
    sent: int
    delivered: int
    read: int
    replied: int
    failed: int
    estimated_cost: float
    spent: float
    cost_per_delivered: float | None
    delivery_rate: float | None = Field(description="delivered / sent")
    read_rate: float | None = Field(description="read / delivered")
    reply_rate: float | None = Field(description="replied / delivered")


class CampaignRow(Funnel):
    id: str
    name: str
    status: str
    created_at: datetime


class CampaignsOut(ApiModel):
    range: RangeOut
    campaigns: int
    totals: Funnel = Field(description=d.CAMPAIGN_FUNNEL)
    by_campaign: list[CampaignRow]


class BotSessionCounts(ApiModel):
    started: int
    resolved: int
    escalated: int
    abandoned: int
    open: int


class Tokens(ApiModel):
    input: int
    output: int


class LatencyMs(ApiModel):
    count: int = Field(description="Turns that called the model")
    p50_ms: float | None = Field(
        description="The median (the mean of the two middle values for an even count)"
    )
    mean_ms: float | None


class BotOut(ApiModel):
    range: RangeOut
    sessions: BotSessionCounts = Field(description=d.BOT_SESSIONS)
    resolution_rate: float | None
    escalation_rate: float | None
    abandon_rate: float | None
    turns: int = Field(description=d.BOT_TURNS)
    replies: int
    handoff_reasons: list[Count]
    tokens: Tokens
    latency: LatencyMs


class AiQuery(RequestModel):
    model_config = examples({"question": "What was our median first response time last week?"})
    question: Annotated[str, Field(min_length=1, max_length=1000), NonBlank]


class AiAnswer(ApiModel):
    answer: str = Field(description="The figure in a sentence, written from `data` (not by the model)")
    metric: str = Field(description="The catalogue metric the question was mapped to")
    params: dict[str, Any] = Field(description="The parameters it was read with: `from`, `to`, `timezone`")
    data: dict[str, Any] = Field(
        description="The figures the answer used, as the metric's endpoint gives them"
    )


class AiStatus(ApiModel):
    available: bool = Field(description="The organization has an active bot config to ask")
    enabled: bool = Field(description="An admin turned AI queries on (off by default)")
    reason: str | None = Field(
        description="Why a query would be refused: `DISABLED`, `NO_LLM`; null when none"
    )


class AiToggle(RequestModel):
    model_config = examples({"enabled": True})
    enabled: bool | None = None
