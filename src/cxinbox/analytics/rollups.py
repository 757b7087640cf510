"""Reading, folding and rebuilding the analytics rollups (``models/analytics_rollups.py``).

The triggers of revision 0227 keep the facts and append the slot changes; ``fold`` (a periodic job)
moves the changes into the counts, and ``counted`` reads both, so a count is exact whether or not
the fold has run. ``rebuild`` recomputes an organization's rollups from its rows: for data loaded
without the triggers (a bulk load).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cxinbox.analytics.slots import slot_of
from cxinbox.core.change_log import ChangeLog
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.analytics_rollups import (
    AnalyticsSlotChange,
    AnalyticsSlotCount,
    AssignmentFact,
    ConversationFact,
    SlotMetric,
)
from cxinbox.models.inbox import (
    Conversation,
    ConversationStatus,
    ConversationTimelineEntry,
    Direction,
    Message,
    SenderType,
    TimelineKind,
)

COUNTS: Table = AnalyticsSlotCount.__table__  # type: ignore[assignment]
CHANGES: Table = AnalyticsSlotChange.__table__  # type: ignore[assignment]
SLOTS = ChangeLog(
    "analytics_slot_counts", "analytics_slot_changes", ("organization_id", "metric", "slot", "key"), "count"
)


async def counted(
    session: AsyncSession,
    tenant: TenantContext,
    metrics: Iterable[SlotMetric],
    slots: tuple[int, int],
    *,
    by_key: bool = False,
    grouping: tuple[int, int] = (1, 0),
) -> list[tuple[Any, str, int]]:
    """(slot, or key when ``by_key``; metric; count) of ``metrics`` in the slots ``[first, end)``.
    By slot, the slots are counted together in groups of ``grouping`` (``Bucketer.grouping``), each
    answered as its first slot."""
    first, end = slots
    unit, shift = grouping
    names = [m.value for m in metrics]
    parts = [
        select(table.c.metric, table.c.key if by_key else table.c.slot, table.c.count).where(
            table.c.organization_id == tenant.organization_id,
            table.c.metric.in_(names),
            table.c.slot >= first,
            table.c.slot < end,
        )
        for table in (COUNTS, CHANGES)
    ]
    rows = union_all(*parts).subquery()
    group = rows.c.key if by_key else (rows.c.slot - shift) // unit
    result = await session.execute(
        select(group, rows.c.metric, func.sum(rows.c.count)).group_by(group, rows.c.metric)
    )
    return [(g if by_key else g * unit + shift, metric, int(n)) for g, metric, n in result if n]


async def fold(session: AsyncSession) -> None:
    """Fold the pending slot changes into the counts."""
    await SLOTS.fold(session)


async def rebuild(session: AsyncSession, organization_id: str) -> None:
    """Recompute one organization's rollups from its conversations, messages and timeline. Its rows
    are locked against writes meanwhile (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("LOCK TABLE conversations, messages, conversation_timeline IN SHARE MODE"))
    for model in (ConversationFact, AssignmentFact, AnalyticsSlotCount, AnalyticsSlotChange):
        await session.execute(delete(model).where(model.organization_id == organization_id))
    await session.execute(_facts(organization_id))
    await session.execute(_assignments(organization_id))
    for metric, at, key, where in _slot_sources(organization_id):
        slot = slot_of(session, at).label("slot")
        source = select(literal(organization_id), metric, slot, key, func.count()).where(*where)
        await session.execute(
            insert(AnalyticsSlotCount).from_select(
                ["organization_id", "metric", "slot", "key", "count"], source.group_by(metric, slot, key)
            )
        )


def _facts(organization_id: str) -> Any:
    c = Conversation
    asked = (
        select(func.min(Message.ordered_at))
        .where(Message.conversation_id == c.id, Message.sender_type == SenderType.CUSTOMER)
        .correlate(c)
        .scalar_subquery()
    )
    reply = aliased(Message)
    replied = (
        select(func.min(reply.ordered_at))
        .where(
            reply.conversation_id == c.id,
            reply.sender_type.in_((SenderType.AGENT, SenderType.BOT)),
            reply.ordered_at >= asked,
        )
        .scalar_subquery()
    )
    bot_spoke = exists().where(Message.conversation_id == c.id, Message.sender_type == SenderType.BOT)
    t = ConversationTimelineEntry
    left = [
        t.conversation_id == c.id,
        t.kind == TimelineKind.STATUS,
        t.from_value == ConversationStatus.BOT_HANDLING,
    ]
    handed = t.to_value.in_((ConversationStatus.HUMAN_HANDLING, ConversationStatus.OPEN))
    columns = {
        "conversation_id": c.id,
        "organization_id": c.organization_id,
        "created_at": c.created_at,
        "closed_at": c.closed_at,
        "status": c.status,
        "category": c.category,
        "team_id": c.team_id,
        "origin": c.origin,
        "first_customer_at": asked,
        "first_reply_at": replied,
        "bot_spoke": cast(bot_spoke, Boolean),
        "left_bot": cast(exists().where(*left), Boolean),
        "handed_off": cast(exists().where(*left, handed), Boolean),
    }
    return insert(ConversationFact).from_select(
        list(columns), select(*columns.values()).where(c.organization_id == organization_id)
    )


def _assignments(organization_id: str) -> Any:
    t = ConversationTimelineEntry
    answered = (
        select(func.min(Message.ordered_at))
        .where(
            Message.conversation_id == t.conversation_id,
            Message.sender_type == SenderType.AGENT,
            Message.sender_user_id == t.to_value,
            Message.ordered_at >= t.created_at,
        )
        .scalar_subquery()
    )
    columns = {
        "timeline_id": t.id,
        "organization_id": t.organization_id,
        "conversation_id": t.conversation_id,
        "user_id": t.to_value,
        "assigned_at": t.created_at,
        "answered_at": answered,
    }
    return insert(AssignmentFact).from_select(
        list(columns),
        select(*columns.values()).where(
            t.organization_id == organization_id, t.kind == TimelineKind.ASSIGNEE, t.to_value.is_not(None)
        ),
    )


def _slot_sources(organization_id: str) -> list[tuple[Any, Any, Any, list[ColumnElement[bool]]]]:
    """(metric, instant, key, conditions) of each metric, as the triggers count them."""
    c, m = Conversation, Message
    direction = case(
        (m.direction == Direction.INBOUND, literal(SlotMetric.INBOUND.value)),
        else_=literal(SlotMetric.OUTBOUND.value),
    )
    closed = [
        c.organization_id == organization_id,
        c.status == ConversationStatus.CLOSED,
        c.closed_at.is_not(None),
    ]
    return [
        (literal(SlotMetric.NEW.value), c.created_at, literal(""), [c.organization_id == organization_id]),
        (
            literal(SlotMetric.CLOSED.value),
            c.closed_at,
            func.coalesce(c.assigned_to_id, ""),
            closed,
        ),
        (literal(SlotMetric.CLOSED_TOTAL.value), c.closed_at, literal(""), closed),
        (direction, m.ordered_at, literal(""), [m.organization_id == organization_id]),
        (
            literal(SlotMetric.AGENT.value),
            m.ordered_at,
            m.sender_user_id,
            [
                m.organization_id == organization_id,
                and_(m.sender_type == SenderType.AGENT, m.sender_user_id.is_not(None)),
            ],
        ),
    ]
