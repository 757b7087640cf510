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

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, true, union_all
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
#: the slot counts each series metric reads: the closed conversations' total, not their ~12 keys a
#: slot (the rows of a range's ends count the metric itself)
SERIES_COUNTED = {metric: metric for metric in SERIES} | {SlotMetric.CLOSED: SlotMetric.CLOSED_TOTAL}


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


def _postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


#: ``percentile_disc(p)`` is the value at rank ``ceil(p * n)``: at ``0.5 + 2**-30`` that is
#: ``n / 2 + 1`` for an even count (the upper middle value) and ``(n + 1) / 2`` for an odd one (the
#: middle one), for any count under 2**30, so that the three ranks share one sort
UPPER_MIDDLE = 0.5 + 2**-30


def _ranks(us: ColumnElement[int]) -> list[ColumnElement[Any]]:
    """PostgreSQL: the count, the sum, the lower and upper middle values and the 90th percentile of
    ``us`` in one pass of aggregates, which all leave NULLs out; the percentiles of one ordering
    share one sort."""
    return [
        func.count(us),
        func.sum(us),
        *(func.percentile_disc(p).within_group(us) for p in (0.5, UPPER_MIDDLE, 0.9)),
    ]


def _summary(count: int, total: Any, low: Any, high: Any, p90: Any) -> Ranked | None:
    return Ranked(int(count), int(total), int(low), int(high), int(p90)) if count else None


async def _ranked(
    session: AsyncSession,
    micros: ColumnElement[int],
    where: Sequence[ColumnElement[bool]],
    group: Any = None,
) -> dict[Any, Ranked]:
    """``micros`` of the rows matching ``where`` ranked per ``group``: only the ranks a summary
    needs leave the database. PostgreSQL takes them with ordered-set aggregates (``_ranks``);
    SQLite, which has none, by numbering the rows."""
    values = (
        select((group if group is not None else literal(None)).label("g"), micros.label("us"))
        .where(*where)
        .subquery()
    )
    if _postgresql(session):
        rows = await session.execute(select(values.c.g, *_ranks(values.c.us)).group_by(values.c.g))
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


def _first_response(session: AsyncSession) -> ColumnElement[int]:
    """The customer's first message to the first reply, NULL while unanswered."""
    return microseconds_between(session, Fact.first_customer_at, Fact.first_reply_at)


def _resolution(session: AsyncSession) -> ColumnElement[int]:
    return microseconds_between(session, Fact.created_at, Fact.closed_at)


@dataclass(frozen=True)
class Assignments:
    """Per agent: the assignments in the range, and the time from each that the agent answered to
    their first message after it."""

    counts: dict[str, int]
    first_responses: dict[str, Ranked]


async def assignments(session: AsyncSession, tenant: TenantContext, period: Period) -> Assignments:
    """PostgreSQL in one statement (the ranks leave out the unanswered ones), SQLite in two."""
    a = AssignmentFact
    micros = microseconds_between(session, a.assigned_at, a.answered_at)
    where = [a.organization_id == tenant.organization_id, _in(a.assigned_at, period)]
    if _postgresql(session):
        rows = await session.execute(
            select(a.user_id, func.count(), *_ranks(micros)).where(*where).group_by(a.user_id)
        )
        found = [(user, n, _summary(*ranks)) for user, n, *ranks in rows]
        return Assignments(
            {user: n for user, n, _ in found}, {user: r for user, _, r in found if r is not None}
        )
    rows = await session.execute(select(a.user_id, func.count()).where(*where).group_by(a.user_id))
    answered = await _ranked(session, micros, [*where, a.answered_at.is_not(None)], a.user_id)
    return Assignments({user: n for user, n in rows}, answered)


@dataclass(frozen=True)
class ConversationCounts:
    #: with a customer message and no reply yet
    unanswered: int
    bot: int
    handed_off: int
    bot_resolved: int


@dataclass(frozen=True)
class ConversationFigures:
    """First responses and counts of the conversations created in the range (``definitions``: first
    response, bot figures), resolutions of those closed in it."""

    first_response: Ranked | None
    resolution: Ranked | None
    counts: ConversationCounts


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _counts() -> list[ColumnElement[int]]:
    """The ``ConversationCounts`` of the fact rows read, in order."""
    is_bot = or_(Fact.status == ConversationStatus.BOT_HANDLING.value, Fact.bot_spoke, Fact.left_bot)
    conditions = [
        and_(Fact.first_customer_at.is_not(None), Fact.first_reply_at.is_(None)),
        is_bot,
        and_(is_bot, Fact.handed_off),
        and_(is_bot, Fact.status == ConversationStatus.CLOSED.value, Fact.handed_off.is_(False)),
    ]
    return [func.count().filter(condition) for condition in conditions]


async def conversation_figures(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> ConversationFigures:
    """PostgreSQL answers in one statement that reads the range's created facts once (counts and
    first responses together) and its closed ones once. SQLite, in the process (a statement costs
    no round trip), ranks by numbering rows: a statement for each."""
    if _postgresql(session):
        return await _conversation_figures_at_once(session, tenant, period)
    answered = [*_created(tenant, period), Fact.first_reply_at.is_not(None)]
    counts = (await session.execute(select(*_counts()).where(*_created(tenant, period)))).one()
    return ConversationFigures(
        first_response=(await _ranked(session, _first_response(session), answered)).get(None),
        resolution=(await _ranked(session, _resolution(session), _closed(tenant, period))).get(None),
        counts=ConversationCounts(*(int(n) for n in counts)),
    )


async def _conversation_figures_at_once(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> ConversationFigures:
    created = select(*_counts(), *_ranks(_first_response(session))).where(*_created(tenant, period))
    closed = select(*_ranks(_resolution(session))).where(*_closed(tenant, period))
    both = created.subquery(), closed.subquery()
    row = (await session.execute(select(*both).select_from(both[0].join(both[1], true())))).one()
    counts = ConversationCounts(*(int(n) for n in row[:4]))
    return ConversationFigures(_summary(*row[4:9]), _summary(*row[9:]), counts)


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
    found = (
        []
        if whole is None
        else await rollups.counted(session, tenant, SERIES_COUNTED.values(), whole, grouping=grouping)
    )
    if edges:
        found += list(await session.execute(_edge_series(session, tenant, edges)))
    metric_of = {counted.value: metric for metric, counted in SERIES_COUNTED.items()}
    return [(int(slot), metric_of.get(metric) or SlotMetric(metric), n) for slot, metric, n in found]


async def per_person(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> dict[SlotMetric, dict[str, int]]:
    """``CLOSED`` (by the assignee) and ``AGENT`` (messages, by their agent) over the range, per user."""
    whole, edges = period.split()
    metrics = (SlotMetric.CLOSED, SlotMetric.AGENT)
    found = [] if whole is None else await rollups.counted(session, tenant, metrics, whole, by_key=True)
    if edges:
        found += list(await session.execute(_edge_people(tenant, edges)))
    counts: dict[SlotMetric, dict[str, int]] = {metric: defaultdict(int) for metric in metrics}
    for key, metric, n in found:
        if key:
            counts[SlotMetric(metric)][key] += n
    return counts


# The rows themselves, for the pieces of a range shorter than a slot (both ends in one statement)


def _in_any(column: Any, periods: Sequence[Period]) -> ColumnElement[bool]:
    return or_(*(_in(column, p) for p in periods))


def _edge_series(session: AsyncSession, tenant: TenantContext, edges: Sequence[Period]) -> Any:
    """(slot, metric, count) of the ``SERIES`` metrics in ``edges``."""
    c, m = Conversation, Message
    org = tenant.organization_id
    direction = case(
        (m.direction == Direction.INBOUND, literal(SlotMetric.INBOUND.value)),
        else_=literal(SlotMetric.OUTBOUND.value),
    )
    created, closed, sent = (slot_of(session, at) for at in (c.created_at, c.closed_at, m.ordered_at))
    return union_all(
        select(created, literal(SlotMetric.NEW.value), func.count())
        .where(c.organization_id == org, _in_any(c.created_at, edges))
        .group_by(created),
        select(closed, literal(SlotMetric.CLOSED.value), func.count())
        .where(c.organization_id == org, _in_any(c.closed_at, edges), c.status == ConversationStatus.CLOSED)
        .group_by(closed),
        select(sent, direction, func.count())
        .where(m.organization_id == org, _in_any(m.ordered_at, edges))
        .group_by(sent, direction),
    )


def _edge_people(tenant: TenantContext, edges: Sequence[Period]) -> Any:
    """(user, metric, count) of ``CLOSED`` by the assignee and ``AGENT`` messages in ``edges``."""
    c, m = Conversation, Message
    return union_all(
        select(c.assigned_to_id, literal(SlotMetric.CLOSED.value), func.count())
        .where(
            c.organization_id == tenant.organization_id,
            _in_any(c.closed_at, edges),
            c.status == ConversationStatus.CLOSED,
            c.assigned_to_id.is_not(None),
        )
        .group_by(c.assigned_to_id),
        select(m.sender_user_id, literal(SlotMetric.AGENT.value), func.count())
        .where(
            m.organization_id == tenant.organization_id,
            _in_any(m.ordered_at, edges),
            m.sender_type == SenderType.AGENT,
            m.sender_user_id.is_not(None),
        )
        .group_by(m.sender_user_id),
    )


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
