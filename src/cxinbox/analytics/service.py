"""The analytics endpoints' answers, assembled from the figures of ``figures.py``."""

from __future__ import annotations

import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.analytics import figures
from cxinbox.analytics.period import Bucketer, Period
from cxinbox.analytics.schemas import (
    AgentRow,
    AgentsOut,
    BotFigures,
    BotOut,
    BotSessionCounts,
    CampaignRow,
    CampaignsOut,
    ConversationsOut,
    ConversationTotals,
    Count,
    FirstResponse,
    Funnel,
    LatencyMs,
    MessageTotals,
    OverviewOut,
    RangeOut,
    SeriesPoint,
    Tokens,
)
from cxinbox.analytics.stats import durations, ratio
from cxinbox.auth.principal import Principal
from cxinbox.models.analytics_rollups import ConversationFact, SlotMetric
from cxinbox.models.bot_sessions import BotSessionClosure
from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.identity import Role, User


def range_of(period: Period) -> RangeOut:
    return RangeOut.model_validate(
        {
            "from": period.start,
            "to": period.end,
            "timezone": period.zone.key,
            "granularity": period.granularity,
        }
    )


async def overview(session: AsyncSession, principal: Principal, period: Period) -> OverviewOut:
    tenant = principal.tenant
    series = await _series(session, principal, period)
    found = await figures.conversation_figures(session, tenant, period)
    counts = found.counts
    return OverviewOut(
        range=range_of(period),
        conversations=ConversationTotals(
            new=sum(p.new_conversations for p in series), closed=sum(p.closed_conversations for p in series)
        ),
        messages=MessageTotals(
            inbound=sum(p.inbound_messages for p in series), outbound=sum(p.outbound_messages for p in series)
        ),
        first_response=_first_response(found),
        resolution=durations(found.resolution),
        bot=BotFigures(
            conversations=counts.bot,
            handed_off=counts.handed_off,
            resolved=counts.bot_resolved,
            resolution_rate=ratio(counts.bot_resolved, counts.bot),
            handoff_rate=ratio(counts.handed_off, counts.bot),
        ),
        series=series,
    )


async def conversations(session: AsyncSession, principal: Principal, period: Period) -> ConversationsOut:
    tenant = principal.tenant
    series = await _series(session, principal, period)

    groups = (
        ConversationFact.category,
        ConversationFact.team_id,
        ConversationFact.status,
        ConversationFact.origin,
    )
    rows = await figures.counts_by(session, tenant, period, *groups)
    by = [_fold(rows, i) for i in range(len(groups))]
    found = await figures.conversation_figures(session, tenant, period)
    return ConversationsOut(
        range=range_of(period),
        totals=ConversationTotals(
            new=sum(p.new_conversations for p in series), closed=sum(p.closed_conversations for p in series)
        ),
        first_response=_first_response(found),
        resolution=durations(found.resolution),
        by_category=by[0],
        by_team=by[1],
        by_status=by[2],
        by_origin=by[3],
        series=series,
    )


def _fold(rows: list[tuple[Any, ...]], column: int) -> list[Count]:
    """The counts of ``rows`` (values, then a count) summed by the value at ``column``, largest first."""
    counts: dict[str | None, int] = defaultdict(int)
    for row in rows:
        counts[None if row[column] is None else str(row[column])] += row[-1]
    return [Count(key=k, count=n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))]


async def agents(session: AsyncSession, principal: Principal, period: Period) -> AgentsOut:
    tenant = principal.tenant
    members = select(User).where(User.organization_id == tenant.organization_id, User.deleted_at.is_(None))
    if principal.role == Role.AGENT:
        members = members.where(User.id == principal.require_user())
    users = (await session.scalars(members.order_by(User.name, User.id))).all()
    assigned = await figures.assignments(session, tenant, period)
    counted = await figures.per_person(session, tenant, period)
    resolved, sent = counted[SlotMetric.CLOSED], counted[SlotMetric.AGENT]
    return AgentsOut(
        range=range_of(period),
        agents=[
            AgentRow(
                user_id=u.id,
                name=u.name,
                role=u.role.value,
                assigned=assigned.counts.get(u.id, 0),
                resolved=resolved.get(u.id, 0),
                messages_sent=sent.get(u.id, 0),
                first_response=durations(assigned.first_responses.get(u.id)),
            )
            for u in users
            if u.role != Role.SUPER_ADMIN
        ],
    )


async def campaigns(session: AsyncSession, principal: Principal, period: Period) -> CampaignsOut:
    rows = await figures.campaigns(session, principal.tenant, period)
    by_campaign = [
        CampaignRow(
            id=c.id,
            name=c.name,
            status=c.status,
            created_at=c.created_at,
            **_funnel(c.counts, c.estimated_cost, c.spent).model_dump(),
        )
        for c in rows
    ]
    totals = _funnel(
        {name: sum(c.counts[name] for c in rows) for name in figures.FUNNEL},
        sum((c.estimated_cost for c in rows), Decimal(0)),
        sum((c.spent for c in rows), Decimal(0)),
    )
    return CampaignsOut(range=range_of(period), campaigns=len(rows), totals=totals, by_campaign=by_campaign)


async def bot(session: AsyncSession, principal: Principal, period: Period) -> BotOut:
    closures = await figures.bot_sessions(session, principal.tenant, period)
    started = sum(closures.values())
    counts = BotSessionCounts(
        started=started,
        resolved=closures.get(BotSessionClosure.RESOLVED_CONFIRMED, 0),
        escalated=closures.get(BotSessionClosure.ESCALATED, 0),
        abandoned=closures.get(BotSessionClosure.ABANDONED, 0),
        open=closures.get(None, 0),
    )
    turns = await figures.bot_turns(session, principal.tenant, period)
    reasons = [(reason, 1) for decision, reason, _ in turns if decision is TurnDecision.HANDOFF]
    calls = [(trace.get("llmCalls") or [], trace) for _, _, trace in turns]
    latencies = [float(trace.get("latencyMs") or 0) for made, trace in calls if made]
    return BotOut(
        range=range_of(period),
        sessions=counts,
        resolution_rate=ratio(counts.resolved, started),
        escalation_rate=ratio(counts.escalated, started),
        abandon_rate=ratio(counts.abandoned, started),
        turns=len(turns),
        replies=sum(decision is TurnDecision.REPLIED for decision, _, _ in turns),
        handoff_reasons=_fold(reasons, 0),
        tokens=Tokens(
            input=sum(int(c.get("inputTokens") or 0) for made, _ in calls for c in made),
            output=sum(int(c.get("outputTokens") or 0) for made, _ in calls for c in made),
        ),
        latency=LatencyMs(
            count=len(latencies),
            p50_ms=statistics.median(latencies) if latencies else None,
            mean_ms=round(statistics.fmean(latencies), 3) if latencies else None,
        ),
    )


def _funnel(counts: dict[str, int], estimated: Decimal, spent: Decimal) -> Funnel:
    sent, delivered = counts["sent"], counts["delivered"]
    return Funnel(
        **counts,
        estimated_cost=float(round(estimated, 4)),
        spent=float(round(spent, 4)),
        cost_per_delivered=None if not delivered else float(round(spent / delivered, 4)),
        delivery_rate=ratio(delivered, sent),
        read_rate=ratio(counts["read"], delivered),
        reply_rate=ratio(counts["replied"], delivered),
    )


def _first_response(found: figures.ConversationFigures) -> FirstResponse:
    summary = durations(found.first_response)
    return FirstResponse(**summary.model_dump(), unanswered=found.counts.unanswered)


async def _series(session: AsyncSession, principal: Principal, period: Period) -> list[SeriesPoint]:
    tenant = principal.tenant
    buckets = period.buckets()
    bucketer = Bucketer(buckets)
    counts = {metric: [0] * len(buckets) for metric in figures.SERIES}
    if buckets:
        for slot, metric, n in await figures.series_counts(session, tenant, period, bucketer.grouping()):
            counts[metric][bucketer.index(slot)] += n
    new, closed = counts[SlotMetric.NEW], counts[SlotMetric.CLOSED]
    inbound, outbound = counts[SlotMetric.INBOUND], counts[SlotMetric.OUTBOUND]
    return [
        SeriesPoint(
            start=b.start,
            end=b.end,
            local_start=b.local_start.isoformat(),
            new_conversations=new[i],
            closed_conversations=closed[i],
            inbound_messages=inbound[i],
            outbound_messages=outbound[i],
        )
        for i, b in enumerate(buckets)
    ]
