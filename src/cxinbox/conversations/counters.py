"""Exact conversation counts at a cost that follows the number of groups, not of conversations.

Triggers on ``conversations`` (revision 0106, PostgreSQL and SQLite) append a change to
``conversation_count_changes`` whenever a conversation enters or leaves a group (status, assignee,
team, category, origin) or its unread / needs-action flag flips; a periodic job folds the changes
into ``conversation_counts``. A count reads both tables in one statement, so it is exact at every
moment, whoever changed the conversation (this area, the inbound pipeline, outbound replies).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, func, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations.access import ConversationScope
from cxinbox.conversations.schemas import ConversationFilter
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.inbox import ConversationCount, ConversationCountChange

COUNTS: Table = ConversationCount.__table__  # type: ignore[assignment]
CHANGES: Table = ConversationCountChange.__table__  # type: ignore[assignment]
#: the empty value of a group's assignee, team and category
NONE = ""
FOLD_BATCH = 100_000
_GROUP = "organization_id, status, assignee, team, category, origin"
_UPSERT = f"""
    INSERT INTO conversation_counts ({_GROUP}, total, unread, needs_action)
    SELECT {_GROUP}, sum(total), sum(unread), sum(needs_action) FROM {{source}}
    WHERE organization_id IN (SELECT id FROM organizations)
    GROUP BY {_GROUP}
    ON CONFLICT ({_GROUP}) DO UPDATE SET
        total = conversation_counts.total + excluded.total,
        unread = conversation_counts.unread + excluded.unread,
        needs_action = conversation_counts.needs_action + excluded.needs_action
"""
#: PostgreSQL: the changes a fold takes are exactly those it deletes (one statement, one snapshot)
_FOLD_POSTGRESQL = text(
    f"""
    WITH moved AS (
        DELETE FROM conversation_count_changes
        WHERE id IN (SELECT id FROM conversation_count_changes ORDER BY id LIMIT :batch)
        RETURNING {_GROUP}, total, unread, needs_action
    )
    {_UPSERT.format(source="moved")}
    """
)
#: SQLite runs one writing transaction at a time: fold up to an id, then delete up to it
_FOLD_SQLITE = text(
    _UPSERT.format(source="(SELECT * FROM conversation_count_changes WHERE id <= :last) AS moved")
)
_PRUNE = text("DELETE FROM conversation_counts WHERE total = 0 AND unread = 0 AND needs_action = 0")
_RECOUNT = text(
    f"""
    INSERT INTO conversation_counts ({_GROUP}, total, unread, needs_action)
    SELECT organization_id, status, coalesce(assigned_to_id, ''), coalesce(team_id, ''),
           coalesce(category, ''), origin, count(*),
           sum(CASE WHEN unread_count > 0 THEN 1 ELSE 0 END),
           sum(CASE WHEN needs_action THEN 1 ELSE 0 END)
    FROM conversations WHERE organization_id = :org
    GROUP BY 1, 2, 3, 4, 5, 6
    """
)


def covers(criteria: ConversationFilter) -> bool:
    """Whether the counters can answer for ``criteria`` (tags and search need the conversations)."""
    return criteria.tag_id is None and not criteria.search


async def counted(
    session: AsyncSession, tenant: TenantContext, scope: ConversationScope, criteria: ConversationFilter
) -> tuple[int, int, int]:
    """All, unread and needs-action conversations matching ``criteria`` in ``scope``."""
    parts = [
        select(table.c.total, table.c.unread, table.c.needs_action).where(
            *_conditions(table, tenant, scope, criteria)
        )
        for table in (COUNTS, CHANGES)
    ]
    rows = union_all(*parts).subquery()
    stmt = select(*(func.coalesce(func.sum(column), 0) for column in rows.c))
    every, unread, needs_action = (await session.execute(stmt)).one()
    return int(every), int(unread), int(needs_action)


def _conditions(
    table: Table, tenant: TenantContext, scope: ConversationScope, criteria: ConversationFilter
) -> list[ColumnElement[bool]]:
    c = table.c
    where: list[ColumnElement[bool]] = [
        c.organization_id == tenant.organization_id,
        scope.clause(assigned_to=c.assignee, team=c.team, unassigned=NONE),
        c.status == criteria.status.value if criteria.status else c.status != "CLOSED",
    ]
    if criteria.unassigned:
        where.append(c.assignee == NONE)
    elif criteria.assigned_to is not None:
        where.append(c.assignee == criteria.assigned_to)
    exact: dict[str, Any] = {
        "team": criteria.team_id,
        "category": criteria.category,
        "origin": criteria.origin,
    }
    where += [c[name] == str(value) for name, value in exact.items() if value is not None]
    return where


async def fold(session: AsyncSession) -> None:
    """Fold the pending changes into the counts (and drop groups that became empty)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_FOLD_POSTGRESQL, {"batch": FOLD_BATCH})
    else:
        last = await session.scalar(select(func.max(CHANGES.c.id)))
        if last is None:
            return
        await session.execute(_FOLD_SQLITE, {"last": last})
        await session.execute(CHANGES.delete().where(CHANGES.c.id <= last))
    await session.execute(_PRUNE)


async def recount(session: AsyncSession, organization_id: str) -> None:
    """Count an organization's conversations again from scratch: for data written without the
    triggers (a bulk load). Conversations are locked against writes meanwhile (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("LOCK TABLE conversations IN SHARE MODE"))
    for table in (COUNTS, CHANGES):
        await session.execute(table.delete().where(table.c.organization_id == organization_id))
    await session.execute(_RECOUNT, {"org": organization_id})
