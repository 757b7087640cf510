"""``/bot-config/metrics``: the bot's quality, sessions and turn traces. ADMIN and SUPERVISOR read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from cxinbox.auth.dependencies import ReadSessionDep, RuntimeDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.errors import AppError, NotFound
from cxinbox.core.pagination import PageParams, page_params
from cxinbox.core.wire import Envelope, PageEnvelope
from cxinbox.models.bot_sessions import BotSessionClosure
from cxinbox.studio import metrics
from cxinbox.studio.metrics_schemas import QualityOut, SessionOut, TraceOut, TracesOut

router = APIRouter(prefix="/bot-config/metrics", tags=["bot-studio"], dependencies=[key_scope(Area.SETTINGS)])

READERS = "ADMIN and SUPERVISOR (an AGENT gets 403)."
ADDITION = "Addition: the response."
Days = Annotated[int, Query(ge=1, le=365, description="Number of days to look back")]


@router.get(
    "/quality",
    summary="Get bot quality metrics for the current org",
    description=f"{ADDITION} Over the bot sessions started in the last `days` days (1..365), the "
    f"feedback given and the turns taken in them. {READERS}",
)
async def quality(principal: SupervisorDep, session: ReadSessionDep, days: Days = 30) -> Envelope[QualityOut]:
    return Envelope(data=await metrics.quality(session, principal, days))


@router.get(
    "/sessions",
    summary="List bot sessions with filtering and pagination",
    description=f"{ADDITION} The sessions started in the last `days` days (1..365), newest first, "
    f"with the turns the bot took in each. {READERS}",
)
async def sessions(
    principal: SupervisorDep,
    session: ReadSessionDep,
    params: Annotated[PageParams, Depends(page_params)],
    days: Days = 30,
    closure_type: Annotated[
        BotSessionClosure | None, Query(alias="closureType", description="Filter by closure type")
    ] = None,
) -> PageEnvelope[SessionOut]:
    rows, total = await metrics.sessions_page(session, principal, days, closure_type, params)
    return PageEnvelope(data=rows, meta=params.meta(total))


@router.get(
    "/traces",
    summary="Bot performance metrics from Langfuse traces",
    description=f"{ADDITION} Read from the traces the bot records for each turn (Langfuse is an "
    "optional export): totals over the turns of the last `days` days and the newest 200 as summary "
    f"rows. Kept 60 s per organization and `days`; `force=true` computes them afresh. {READERS}",
)
async def traces(
    principal: SupervisorDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=30, description="Number of days to look back")] = 7,
    force: Annotated[bool, Query(description="Skip the 60 s cache")] = False,
) -> Envelope[TracesOut]:
    return Envelope(data=await metrics.traces(session, runtime.cache, principal, days, force=force))


@router.get(
    "/traces/{traceId}",
    summary="Get detailed pipeline view for a single trace",
    description=f"{ADDITION} One turn's trace: its stages in order (screening, intent, retrieval, "
    f"LLM calls, tools, handoff), tokens, latency and decision. Another organization's is 404. {READERS}",
    responses=AppError.responses(NotFound),
)
async def trace(
    principal: SupervisorDep,
    session: ReadSessionDep,
    trace_id: Annotated[str, Path(alias="traceId", max_length=64)],
) -> Envelope[TraceOut]:
    return Envelope(data=await metrics.trace(session, principal, trace_id))
