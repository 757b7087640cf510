"""The analytics page: the organization's figures over a date range (the last 30 days unless the
form says otherwise), in the organization's default timezone: KPIs, conversations and messages over
time as a chart (the vendored uPlot, with the same figures as a table for screen readers and
without script), and the agents' and teams' tables, through the services of ``/analytics``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from cxinbox.analytics import service
from cxinbox.analytics.period import DEFAULT_DAYS, DEFAULT_TIMEZONE, MAX_DAYS, Period, parse_period
from cxinbox.analytics.schemas import SeriesPoint
from cxinbox.console.admin import refused
from cxinbox.console.places import ANALYTICS
from cxinbox.console.visit import MemberDep, Visit
from cxinbox.core.clock import utcnow
from cxinbox.teams import service as teams

router = APIRouter(include_in_schema=False)


#: the days the form may name (outside them, the default's)
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 1, 1)


def _day(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and EARLIEST <= day <= LATEST else None


def _period(visit: Visit) -> tuple[Period, date, date]:
    """The form's days (``from`` and ``to``, both included) as the API's range; a missing or wrong
    day is the default's, and a range past the API's limit is cut to it."""
    query = visit.request.query_params
    today = utcnow().date()
    last = _day(query.get("to")) or today
    first = _day(query.get("from")) or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    start = datetime.combine(first, time(0))
    end = datetime.combine(last + timedelta(days=1), time(0))
    return parse_period(start, end, DEFAULT_TIMEZONE), first, last


def chart_data(series: list[SeriesPoint]) -> dict[str, Any]:
    """The series as the chart script reads it: uPlot's columns, x in Unix seconds."""
    return {
        "x": [int(p.start.timestamp()) for p in series],
        "newConversations": [p.new_conversations for p in series],
        "closedConversations": [p.closed_conversations for p in series],
        "inbound": [p.inbound_messages for p in series],
        "outbound": [p.outbound_messages for p in series],
    }


@router.get(ANALYTICS.path, response_class=HTMLResponse)
async def analytics_page(visit: MemberDep) -> Response:
    if no := refused(visit, ANALYTICS):
        return no
    period, first, last = _period(visit)
    principal = visit.member
    async with visit.runtime.read_session() as session:
        overview = await service.overview(session, principal, period)
        volume = await service.conversations(session, principal, period)
        agents = await service.agents(session, principal, period)
        team_names = {t.id: t.name for t in await teams.list_teams(session, principal, include_inactive=True)}
    labels = {
        "newConversations": visit.t("analytics_new"),
        "closedConversations": visit.t("analytics_closed"),
        "inbound": visit.t("analytics_inbound"),
        "outbound": visit.t("analytics_outbound"),
    }
    return visit.page(
        "console/analytics.html",
        first=first.isoformat(),
        last=last.isoformat(),
        overview=overview,
        chart={**chart_data(overview.series), "labels": labels, "timezone": DEFAULT_TIMEZONE},
        series=overview.series,
        agents=agents.agents,
        teams=[(team_names.get(c.key or "", c.key) if c.key else None, c.count) for c in volume.by_team],
        by_category=volume.by_category,
        timezone=DEFAULT_TIMEZONE,
    )
