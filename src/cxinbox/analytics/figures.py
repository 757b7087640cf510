"""The SQL behind every figure, over the rows of one organization and one range, read from the
rollups that the triggers of revision 0227 keep (``models/analytics_rollups.py``).

Series and per-person counts come from the 15-minute UTC slot counts (``SLOT_SECONDS``): every
zone's midnights and hours fall on a slot's edge, so the slots fold exactly into the caller's local
buckets (``period.Bucketer``) without any timezone arithmetic in SQL. A range that starts or ends
inside a slot reads those pieces (under 15 minutes each) from the rows themselves, so every count
is exact for any instant. Durations come from the per-conversation and per-assignment facts: the
database ranks them and answers the count, the sum and the middle and 90th-percentile values, in
whole microseconds, so that no list of durations crosses to Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.analytics import rollups
from cxinbox.analytics.period import Period
from cxinbox.analytics.slots import microseconds_between, slot_of
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.analytics_rollups import AssignmentFact, ConversationFact, SlotMetric
from cxinbox.models.bot_sessions import BotSession
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.campaigns import Campaign, CampaignRecipient, RecipientStatus
from cxinbox.models.inbox import Conversation, ConversationStatus, Direction, Message, SenderType

Fact = ConversationFact
SERIES = (SlotMetric.NEW, SlotMetric.CLOSED, SlotMetric.INBOUND, SlotMetric.OUTBOUND)


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _created(tenant: TenantContext, period: Period) -> list[ColumnElement[bool]]:
    return [Fact.organization_id == tenant.organization_id, _in(Fact.created_at, period)]


def _closed(tenant: TenantContext, period: Period) -> list[ColumnElement[bool]]:
    return [
        Fact.organization_id == tenant.organization_id,
        _in(Fact.closed_at, period),
        Fact.status == ConversationStatus.CLOSED.value,
    ]


@dataclass(frozen=True)
class Ranked:
    """A list of durations as the database summarises it, in microseconds."""

    count: int
    total: int
    #: the lower and the upper middle value (the same one for an odd count)
    low: int
    high: int
    #: the nearest-rank 90th percentile
    p90: int


async def _ranked(
    session: AsyncSession,
    micros: ColumnElement[int],
    where: Sequence[ColumnElement[bool]],
    group: Any = None,
) -> dict[Any, Ranked]:
    """``micros`` of the rows matching ``where`` ranked per ``group``: only the ranks a summary
    needs leave the database. PostgreSQL takes them with ordered-set aggregates (the lower middle
    value is the 50th percentile ascending, the upper one descending); SQLite, which has none, by
    numbering the rows."""
    values = (
        select((group if group is not None else literal(None)).label("g"), micros.label("us"))
        .where(*where)
        .subquery()
    )
    us = values.c.us
    if session.get_bind().dialect.name == "postgresql":
        rows = await session.execute(
            select(
                values.c.g,
                func.count(),
                func.sum(us),
                func.percentile_disc(0.5).within_group(us),
                func.percentile_disc(0.5).within_group(us.desc()),
                func.percentile_disc(0.9).within_group(us),
            ).group_by(values.c.g)
        )
    else:
        rows = await session.execute(_numbered(values))
    return {g: Ranked(int(c), int(t), int(lo), int(hi), int(p)) for g, c, t, lo, hi, p in rows}


def _numbered(values: Any) -> Any:
    g = values.c.g
    ranked = select(
        g,
        values.c.us,
        func.row_number().over(partition_by=g, order_by=values.c.us).label("rn"),
        func.count().over(partition_by=g).label("n"),
        func.sum(values.c.us).over(partition_by=g).label("total"),
    ).subquery()
    n, rn, us = ranked.c.n, ranked.c.rn, ranked.c.us
    low, high, p90 = (n + 1) // 2, n // 2 + 1, (n * 9 + 9) // 10

    def at(rank: ColumnElement[int]) -> ColumnElement[int]:
        return func.max(case((rn == rank, us)))

    return (
        select(ranked.c.g, n, ranked.c.total, at(low), at(high), at(p90))
        .where(or_(rn == low, rn == high, rn == p90))
        .group_by(ranked.c.g, n, ranked.c.total)
    )


async def first_responses(session: AsyncSession, tenant: TenantContext, period: Period) -> Ranked | None:
    """The answered conversations created in the range: customer's first message to first reply."""
    where = [*_created(tenant, period), Fact.first_reply_at.is_not(None)]
    micros = microseconds_between(session, Fact.first_customer_at, Fact.first_reply_at)
    return (await _ranked(session, micros, where)).get(None)


async def resolutions(session: AsyncSession, tenant: TenantContext, period: Period) -> Ranked | None:
    micros = microseconds_between(session, Fact.created_at, Fact.closed_at)
    return (await _ranked(session, micros, _closed(tenant, period))).get(None)


async def agent_first_responses(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> dict[str, Ranked]:
    """Per agent: the assignments in the range that the agent answered, assignment to first message."""
    a = AssignmentFact
    micros = microseconds_between(session, a.assigned_at, a.answered_at)
    where = [
        a.organization_id == tenant.organization_id,
        _in(a.assigned_at, period),
        a.answered_at.is_not(None),
    ]
    return await _ranked(session, micros, where, a.user_id)


async def assignments(session: AsyncSession, tenant: TenantContext, period: Period) -> dict[str, int]:
    a = AssignmentFact
    rows = await session.execute(
        select(a.user_id, func.count())
        .where(a.organization_id == tenant.organization_id, _in(a.assigned_at, period))
        .group_by(a.user_id)
    )
    return {user: n for user, n in rows}


@dataclass(frozen=True)
class ConversationCounts:
    #: with a customer message and no reply yet
    unanswered: int
    bot: int
    handed_off: int
    bot_resolved: int


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def conversation_counts(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> ConversationCounts:
    """Of the conversations created in the range (``definitions``: first response, bot figures)."""
    is_bot = or_(Fact.status == ConversationStatus.BOT_HANDLING.value, Fact.bot_spoke, Fact.left_bot)
    row = (
        await session.execute(
            select(
                _count_if(and_(Fact.first_customer_at.is_not(None), Fact.first_reply_at.is_(None))),
                _count_if(is_bot),
                _count_if(and_(is_bot, Fact.handed_off)),
                _count_if(
                    and_(is_bot, Fact.status == ConversationStatus.CLOSED.value, Fact.handed_off.is_(False))
                ),
            ).where(*_created(tenant, period))
        )
    ).one()
    return ConversationCounts(*(int(n) for n in row))


async def counts_by(
    session: AsyncSession, tenant: TenantContext, period: Period, *columns: Any
) -> list[tuple[Any, ...]]:
    """New conversations of the range grouped by their ``columns`` (of ``ConversationFact``)
    together, one scan: each row is the columns' values then the count."""
    rows = await session.execute(
        select(*columns, func.count()).where(*_created(tenant, period)).group_by(*columns)
    )
    return [tuple(row) for row in rows]


async def series_counts(
    session: AsyncSession, tenant: TenantContext, period: Period, grouping: tuple[int, int]
) -> list[tuple[int, SlotMetric, int]]:
    """(slot, metric, count) of every ``SERIES`` metric over the range, slots counted together in
    groups of ``grouping`` where the rollups answer."""
    whole, edges = period.split()
    found = [] if whole is None else await rollups.counted(session, tenant, SERIES, whole, grouping=grouping)
    rows = [(int(slot), SlotMetric(metric), n) for slot, metric, n in found]
    for edge in edges:
        for metric, closed in ((SlotMetric.NEW, False), (SlotMetric.CLOSED, True)):
            rows += [(s, metric, n) for s, n in await _conversations_per_slot(session, tenant, edge, closed)]
        rows += await _messages_per_slot(session, tenant, edge)
    return rows


async def per_person(
    session: AsyncSession, tenant: TenantContext, period: Period, metric: SlotMetric
) -> dict[str, int]:
    """``CLOSED`` (by the assignee) or ``AGENT`` (messages, by their agent) over the range, per user."""
    whole, edges = period.split()
    found = [] if whole is None else await rollups.counted(session, tenant, [metric], whole, by_key=True)
    counts: dict[str, int] = defaultdict(int)
    for key, _, n in found:
        if key:
            counts[key] += n
    raw = _resolved_by_assignee if metric is SlotMetric.CLOSED else _messages_by_agent
    for edge in edges:
        for user, n in await raw(session, tenant, edge):
            counts[user] += n
    return counts


# The rows themselves, for the pieces of a range shorter than a slot


async def _conversations_per_slot(
    session: AsyncSession, tenant: TenantContext, period: Period, closed: bool
) -> list[tuple[int, int]]:
    c = Conversation
    column = c.closed_at if closed else c.created_at
    where = [c.organization_id == tenant.organization_id, _in(column, period)]
    if closed:
        where.append(c.status == ConversationStatus.CLOSED)
    slot = slot_of(session, column)
    rows = await session.execute(select(slot, func.count()).where(*where).group_by(slot))
    return [(int(s), n) for s, n in rows]


async def _messages_per_slot(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> list[tuple[int, SlotMetric, int]]:
    slot = slot_of(session, Message.ordered_at)
    rows = await session.execute(
        select(slot, Message.direction, func.count())
        .where(Message.organization_id == tenant.organization_id, _in(Message.ordered_at, period))
        .group_by(slot, Message.direction)
    )
    inbound, outbound = SlotMetric.INBOUND, SlotMetric.OUTBOUND
    return [(int(s), inbound if d == Direction.INBOUND else outbound, n) for s, d, n in rows]


async def _resolved_by_assignee(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> list[tuple[str, int]]:
    c = Conversation
    rows = await session.execute(
        select(c.assigned_to_id, func.count())
        .where(
            c.organization_id == tenant.organization_id,
            _in(c.closed_at, period),
            c.status == ConversationStatus.CLOSED,
            c.assigned_to_id.is_not(None),
        )
        .group_by(c.assigned_to_id)
    )
    return [(user, n) for user, n in rows if user is not None]


async def _messages_by_agent(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Message.sender_user_id, func.count())
        .where(
            Message.organization_id == tenant.organization_id,
            _in(Message.ordered_at, period),
            Message.sender_type == SenderType.AGENT,
            Message.sender_user_id.is_not(None),
        )
        .group_by(Message.sender_user_id)
    )
    return [(user, n) for user, n in rows if user is not None]


async def bot_sessions(session: AsyncSession, tenant: TenantContext, period: Period) -> dict[str | None, int]:
    """Bot sessions started in the range, by closure (None: still open)."""
    rows = await session.execute(
        select(BotSession.closure_type, func.count())
        .where(BotSession.organization_id == tenant.organization_id, _in(BotSession.started_at, period))
        .group_by(BotSession.closure_type)
    )
    return {None if c is None else str(c): n for c, n in rows}


async def bot_turns(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> list[tuple[TurnDecision | None, str | None, dict[str, Any]]]:
    """(decision, handoff reason, trace) of the finished conversation turns taken in the range: the
    tokens and latencies sit in each trace's list of LLM calls, summed in Python."""
    rows = await session.execute(
        select(BotTurn.decision, BotTurn.handoff_reason, BotTurn.trace).where(
            BotTurn.organization_id == tenant.organization_id,
            _in(BotTurn.created_at, period),
            BotTurn.state == TurnState.DONE,
            BotTurn.conversation_id.is_not(None),
        )
    )
    return [(decision, reason, trace or {}) for decision, reason, trace in rows]


#: a recipient's furthest step, as ``campaigns`` counts them per campaign
FUNNEL = ("recipients", "pending", "sent", "delivered", "read", "replied", "failed")


@dataclass(frozen=True)
class CampaignFigures:
    id: str
    name: str
    status: str
    created_at: datetime
    estimated_cost: Decimal
    spent: Decimal
    #: each of ``FUNNEL``
    counts: dict[str, int]


_SENT = (RecipientStatus.SENT, RecipientStatus.DELIVERED, RecipientStatus.READ)
_DELIVERED = (RecipientStatus.DELIVERED, RecipientStatus.READ)
_PENDING = (RecipientStatus.PENDING, RecipientStatus.SENDING)


async def campaigns(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> Sequence[CampaignFigures]:
    status = CampaignRecipient.status
    funnel = (
        select(
            CampaignRecipient.campaign_id.label("campaign_id"),
            func.count().label("recipients"),
            _count_if(status.in_(_PENDING)).label("pending"),
            _count_if(status.in_(_SENT)).label("sent"),
            _count_if(status.in_(_DELIVERED)).label("delivered"),
            _count_if(status == RecipientStatus.READ).label("read"),
            _count_if(CampaignRecipient.replied_at.is_not(None)).label("replied"),
            _count_if(status == RecipientStatus.FAILED).label("failed"),
        )
        .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
        .where(
            Campaign.organization_id == tenant.organization_id,
            CampaignRecipient.organization_id == tenant.organization_id,
            _in(Campaign.created_at, period),
        )
        .group_by(CampaignRecipient.campaign_id)
        .subquery()
    )
    counts = [
        funnel.c[name] for name in ("recipients", "pending", "sent", "delivered", "read", "replied", "failed")
    ]
    rows = await session.execute(
        select(
            Campaign.id,
            Campaign.name,
            Campaign.status,
            Campaign.created_at,
            Campaign.estimated_cost,
            Campaign.spent,
            *(func.coalesce(c, 0) for c in counts),
        )
        .outerjoin(funnel, funnel.c.campaign_id == Campaign.id)
        .where(Campaign.organization_id == tenant.organization_id, _in(Campaign.created_at, period))
        .order_by(Campaign.created_at, Campaign.id)
    )
    return [
        CampaignFigures(
            id=row[0],
            name=row[1],
            status=str(row[2]),
            created_at=row[3],
            estimated_cost=Decimal(row[4] or 0),
            spent=Decimal(row[5] or 0),
            counts={name: int(n) for name, n in zip(FUNNEL, row[6:], strict=True)},
        )
        for row in rows
    ]
