"""The SQL behind every figure: one aggregate statement per figure, grouped in the database
(``GROUP BY`` on SQLite and PostgreSQL alike), over the rows of one organization and one range.

Series are grouped by 15-minute UTC slot (``SLOT_SECONDS``): every zone's midnights and hours fall
on a slot's edge, so the slots fold exactly into the caller's local buckets (``period.Bucketer``)
without any timezone arithmetic in SQL. Durations come back as one pair of instants per
conversation (or assignment); their median and mean are taken in Python, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cxinbox.analytics.period import SLOT_SECONDS, Period
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.bot_sessions import BotSession
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.campaigns import Campaign, CampaignRecipient, RecipientStatus
from cxinbox.models.inbox import (
    Conversation,
    ConversationStatus,
    ConversationTimelineEntry,
    Direction,
    Message,
    SenderType,
    TimelineKind,
)

Timeline = ConversationTimelineEntry
REPLIERS = (SenderType.AGENT, SenderType.BOT)
BOT = ConversationStatus.BOT_HANDLING.value
HANDED_TO = (ConversationStatus.HUMAN_HANDLING.value, ConversationStatus.OPEN.value)


def _slot(session: AsyncSession, column: Any) -> ColumnElement[int]:
    """The 15-minute UTC slot of a timestamp, as an integer (seconds since the epoch // 900)."""
    if session.get_bind().dialect.name == "sqlite":  # naive UTC text: strftime reads it as UTC
        return cast(func.strftime("%s", column), Integer).op("/")(SLOT_SECONDS)
    return cast(func.floor(extract("epoch", column) / SLOT_SECONDS), BigInteger)


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _created(tenant: TenantContext, period: Period) -> list[ColumnElement[bool]]:
    return [Conversation.organization_id == tenant.organization_id, _in(Conversation.created_at, period)]


def _closed(tenant: TenantContext, period: Period) -> list[ColumnElement[bool]]:
    return [
        Conversation.organization_id == tenant.organization_id,
        _in(Conversation.closed_at, period),
        Conversation.status == ConversationStatus.CLOSED,
    ]


async def conversations_per_slot(
    session: AsyncSession, tenant: TenantContext, period: Period, *, closed: bool = False
) -> list[tuple[int, int]]:
    column = Conversation.closed_at if closed else Conversation.created_at
    where = _closed(tenant, period) if closed else _created(tenant, period)
    slot = _slot(session, column)
    rows = await session.execute(select(slot, func.count()).where(*where).group_by(slot))
    return [(int(s), n) for s, n in rows]


async def messages_per_slot(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> list[tuple[int, Direction, int]]:
    slot = _slot(session, Message.ordered_at)
    rows = await session.execute(
        select(slot, Message.direction, func.count())
        .where(Message.organization_id == tenant.organization_id, _in(Message.ordered_at, period))
        .group_by(slot, Message.direction)
    )
    return [(int(s), d, n) for s, d, n in rows]


async def first_responses(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> list[tuple[datetime, datetime | None]]:
    """(the customer's first message, the first agent or bot reply after it or None) per
    conversation created in the range that has a customer message. Each is one seek in
    ``ix_messages_conversation_sender``."""
    asked = (
        select(func.min(Message.ordered_at))
        .where(Message.conversation_id == Conversation.id, Message.sender_type == SenderType.CUSTOMER)
        .correlate(Conversation)
        .scalar_subquery()
    )
    reply = aliased(Message)
    replied = (
        select(func.min(reply.ordered_at))
        .where(
            reply.conversation_id == Conversation.id,
            reply.sender_type.in_(REPLIERS),
            reply.ordered_at >= asked,
        )
        .scalar_subquery()
    )
    rows = await session.execute(select(asked, replied).where(*_created(tenant, period)))
    return [(asked_at, reply_at) for asked_at, reply_at in rows if asked_at is not None]


async def resolutions(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> list[tuple[datetime, datetime]]:
    rows = await session.execute(
        select(Conversation.created_at, Conversation.closed_at).where(*_closed(tenant, period))
    )
    return [(created, closed) for created, closed in rows if closed is not None]


@dataclass(frozen=True)
class BotCounts:
    conversations: int
    handed_off: int
    resolved: int


async def bot_counts(session: AsyncSession, tenant: TenantContext, period: Period) -> BotCounts:
    def status_move(*, to: tuple[str, ...] | None = None) -> ColumnElement[bool]:
        where = [
            Timeline.conversation_id == Conversation.id,
            Timeline.kind == TimelineKind.STATUS,
            Timeline.from_value == BOT,
        ]
        if to is not None:
            where.append(Timeline.to_value.in_(to))
        return exists().where(*where)

    bot_spoke = exists().where(
        Message.conversation_id == Conversation.id, Message.sender_type == SenderType.BOT
    )
    is_bot = or_(Conversation.status == ConversationStatus.BOT_HANDLING, bot_spoke, status_move())
    handed_off = status_move(to=HANDED_TO)
    resolved = and_(Conversation.status == ConversationStatus.CLOSED, ~handed_off)
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((handed_off, 1), else_=0)), 0),
                func.coalesce(func.sum(case((resolved, 1), else_=0)), 0),
            ).where(*_created(tenant, period), is_bot)
        )
    ).one()
    return BotCounts(int(row[0]), int(row[1]), int(row[2]))


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


async def counts_by(
    session: AsyncSession, tenant: TenantContext, period: Period, *columns: Any
) -> list[tuple[Any, ...]]:
    """New conversations of the range grouped by their ``columns`` together, one scan: each row is
    the columns' values then the count."""
    rows = await session.execute(
        select(*columns, func.count()).where(*_created(tenant, period)).group_by(*columns)
    )
    return [tuple(row) for row in rows]


async def assignments(session: AsyncSession, tenant: TenantContext, period: Period) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Timeline.to_value, func.count())
        .where(*_assignment_filter(tenant, period))
        .group_by(Timeline.to_value)
    )
    return [(user, n) for user, n in rows if user is not None]


def _assignment_filter(tenant: TenantContext, period: Period) -> list[ColumnElement[bool]]:
    return [
        Timeline.organization_id == tenant.organization_id,
        _in(Timeline.created_at, period),
        Timeline.kind == TimelineKind.ASSIGNEE,
        Timeline.to_value.is_not(None),
    ]


async def resolved_by_assignee(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Conversation.assigned_to_id, func.count())
        .where(*_closed(tenant, period), Conversation.assigned_to_id.is_not(None))
        .group_by(Conversation.assigned_to_id)
    )
    return [(user, n) for user, n in rows if user is not None]


async def messages_by_agent(
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


async def agent_first_responses(
    session: AsyncSession, tenant: TenantContext, period: Period
) -> list[tuple[str, datetime, datetime]]:
    """(agent, assigned at, the agent's first message in the conversation after it) per assignment
    in the range that the agent answered."""
    answered = (
        select(func.min(Message.ordered_at))
        .where(
            Message.conversation_id == Timeline.conversation_id,
            Message.sender_type == SenderType.AGENT,
            Message.sender_user_id == Timeline.to_value,
            Message.ordered_at >= Timeline.created_at,
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Timeline.to_value, Timeline.created_at, answered).where(*_assignment_filter(tenant, period))
    )
    return [(user, at, reply) for user, at, reply in rows if user is not None and reply is not None]


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


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


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
