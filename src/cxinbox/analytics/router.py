"""``/analytics``: the organization's figures over a date range, in the caller's timezone.

ADMIN and SUPERVISOR read every figure; an AGENT reads ``/agents`` (their own row only) and
``/ai-status``. Only an ADMIN turns AI queries on or off.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from cxinbox.analytics import ai_query, ai_settings, service
from cxinbox.analytics import definitions as d
from cxinbox.analytics.period import DEFAULT_TIMEZONE, PARAMETERS_HELP, Period, parse_period
from cxinbox.analytics.schemas import (
    AgentsOut,
    AiAnswer,
    AiQuery,
    AiStatus,
    AiToggle,
    BotOut,
    CampaignsOut,
    ConversationsOut,
    OverviewOut,
)
from cxinbox.auth.dependencies import (
    AdminDep,
    MemberDep,
    ReadSessionDep,
    RuntimeDep,
    SessionDep,
    SupervisorDep,
)
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.errors import AppError, ValidationFailed
from cxinbox.core.wire import Envelope

router = APIRouter(prefix="/analytics", tags=["analytics"], dependencies=[key_scope(Area.ANALYTICS)])

ADDITION = "Addition: the response, and `from`/`to`/`timezone` on every analytics endpoint. "
MANAGERS = "ADMIN and SUPERVISOR (an AGENT gets 403)."
RANGE_ERRORS = AppError.responses(ValidationFailed)


async def period(
    start: Annotated[
        datetime | None, Query(alias="from", description="Start of the range (inclusive)")
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="End of the range (exclusive)")] = None,
    timezone: Annotated[
        str, Query(max_length=64, description="IANA timezone of the buckets")
    ] = DEFAULT_TIMEZONE,
) -> Period:
    return parse_period(start, end, timezone)


PeriodDep = Annotated[Period, Depends(period)]


@router.get(
    "/overview",
    summary="Overview KPIs and charts",
    description=f"{ADDITION}{MANAGERS} {PARAMETERS_HELP} {d.DURATIONS}",
    responses=RANGE_ERRORS,
)
async def overview(
    principal: SupervisorDep, session: ReadSessionDep, range_: PeriodDep
) -> Envelope[OverviewOut]:
    return Envelope(data=await service.overview(session, principal, range_))


@router.get(
    "/conversations",
    summary="Conversation volume, response times, categories",
    description=f"{ADDITION}{MANAGERS} {PARAMETERS_HELP} {d.DURATIONS}",
    responses=RANGE_ERRORS,
)
async def conversations(
    principal: SupervisorDep, session: ReadSessionDep, range_: PeriodDep
) -> Envelope[ConversationsOut]:
    return Envelope(data=await service.conversations(session, principal, range_))


@router.get(
    "/agents",
    summary="Per-agent performance metrics",
    description=f"{ADDITION}{d.AGENT_ROWS} {PARAMETERS_HELP} {d.DURATIONS}",
    responses=RANGE_ERRORS,
)
async def agents(principal: MemberDep, session: ReadSessionDep, range_: PeriodDep) -> Envelope[AgentsOut]:
    return Envelope(data=await service.agents(session, principal, range_))


@router.get(
    "/bot",
    summary="Bot performance metrics",
    description=f"{ADDITION}{MANAGERS} {PARAMETERS_HELP} {d.BOT_SESSIONS} {d.BOT_TURNS}",
    responses=RANGE_ERRORS,
)
async def bot(principal: SupervisorDep, session: ReadSessionDep, range_: PeriodDep) -> Envelope[BotOut]:
    return Envelope(data=await service.bot(session, principal, range_))


@router.get(
    "/campaigns",
    summary="Campaign delivery funnel and costs",
    description=f"{ADDITION}{MANAGERS} {PARAMETERS_HELP} {d.CAMPAIGN_FUNNEL}",
    responses=RANGE_ERRORS,
)
async def campaigns(
    principal: SupervisorDep, session: ReadSessionDep, range_: PeriodDep
) -> Envelope[CampaignsOut]:
    return Envelope(data=await service.campaigns(session, principal, range_))


@router.post(
    "/ai-query",
    summary="Free-form AI analytics query",
    description=f"{MANAGERS} Addition: the answer. The organization's active bot config maps the question "
    "to one metric of a fixed catalogue and its range (it never writes SQL); the answer carries the "
    "metric, the parameters and the data it used. Off by default (409 `AI_ANALYTICS_DISABLED`, also "
    "without an active LLM bot config); a metric outside the catalogue answers 400 `UNKNOWN_METRIC` "
    "and bad parameters 400 `VALIDATION_ERROR`, with nothing run.",
    responses=AppError.responses(ValidationFailed, ai_settings.AiAnalyticsDisabled, ai_query.UnknownMetric),
)
async def ai_query_(
    body: AiQuery, principal: SupervisorDep, session: SessionDep, reader: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[AiAnswer]:
    return Envelope(data=await ai_query.ask(session, reader, runtime, principal, body.question))


@router.get(
    "/ai-status",
    summary="Check if AI analytics is available for this tenant",
    description="Addition: the response. Every member may read it.",
)
async def ai_status(principal: MemberDep, session: ReadSessionDep) -> Envelope[AiStatus]:
    return Envelope(data=await ai_settings.status(session, principal))


@router.post(
    "/ai-toggle",
    summary="Toggle AI analytics on/off",
    description="ADMIN only. Without a body it flips the switch; addition: `{enabled}` sets it. "
    "Answers the status.",
)
async def ai_toggle(
    principal: AdminDep, session: SessionDep, body: Annotated[AiToggle | None, Body()] = None
) -> Envelope[AiStatus]:
    return Envelope(data=await ai_settings.toggle(session, principal, body.enabled if body else None))
