"""The inbox's queries: filtered lists in five orders, counts, categories and a contact's history.

Every query starts from the principal's ``ConversationScope`` (``access.py``) and the tenant. The
conditions are written so that PostgreSQL can use the partial indexes of ``models/inbox.py``: the
constants those indexes name (``status != 'CLOSED'``, ``needs_action``, ``unread_count > 0``) are
literals, not parameters, so every plan (also a prepared statement's generic plan) can prove them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, func, literal_column, or_, select, text, union
from sqlalchemy.orm import InstrumentedAttribute

from cxinbox.conversations.access import ConversationScope
from cxinbox.conversations.repository import ConversationRepository
from cxinbox.conversations.schemas import ConversationFilter, ConversationSort, SubFilter
from cxinbox.core.pagination import KeysetOrder, cursor_page, parse_datetime
from cxinbox.core.wire import CursorMeta
from cxinbox.models.inbox import Contact, Conversation, Message
from cxinbox.models.tags import ConversationTag

NOT_CLOSED = Conversation.status != literal_column("'CLOSED'")
UNREAD = Conversation.unread_count > literal_column("0")
NEEDS_ACTION: ColumnElement[bool] = Conversation.needs_action  # type: ignore[assignment]
#: message text is searched (trigram index on PostgreSQL) for terms at least this long
MIN_TEXT_SEARCH = 3
#: a term found in more messages is searched in the most recent of them only (see ``_search``)
TEXT_MATCHES = 100
CONTACT_HISTORY_LIMIT = 100


def _keyset(column: InstrumentedAttribute[Any], *, descending: bool, nullable: bool) -> KeysetOrder:
    return KeysetOrder(
        [column, Conversation.id],
        descending=descending,
        decoders=[parse_datetime, str],
        nullable_first=nullable,
    )


SORTS: dict[ConversationSort, KeysetOrder] = {
    ConversationSort.NEWEST: _keyset(Conversation.last_message_at, descending=True, nullable=True),
    ConversationSort.OLDEST: _keyset(Conversation.last_message_at, descending=False, nullable=True),
    ConversationSort.WAITING_LONGEST: _keyset(Conversation.last_inbound_at, descending=False, nullable=True),
    ConversationSort.CREATED_NEWEST: _keyset(Conversation.created_at, descending=True, nullable=False),
    ConversationSort.CREATED_OLDEST: _keyset(Conversation.created_at, descending=False, nullable=False),
}
_SORT_COLUMN = {
    ConversationSort.NEWEST: "last_message_at",
    ConversationSort.OLDEST: "last_message_at",
    ConversationSort.WAITING_LONGEST: "last_inbound_at",
    ConversationSort.CREATED_NEWEST: "created_at",
    ConversationSort.CREATED_OLDEST: "created_at",
}


def like_pattern(term: str) -> str:
    """``%term%`` with the LIKE wildcards of ``term`` taken literally (escape character ``\\``)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contact_matches(term: str) -> ColumnElement[bool]:
    """A contact whose name contains ``term`` (ignoring case), or whose number contains its digits
    (``+972 98-765`` finds ``972987654321``)."""
    conditions = [Contact.name.ilike(like_pattern(term), escape="\\")]
    digits = re.sub(r"\D", "", term)
    if digits:
        conditions.append(Contact.wa_id.like(like_pattern(digits), escape="\\"))
    return or_(*conditions)


class InboxQueries(ConversationRepository):
    def conditions(self, scope: ConversationScope, criteria: ConversationFilter) -> list[ColumnElement[bool]]:
        org = Conversation.organization_id == self.tenant.organization_id
        where: list[ColumnElement[bool]] = [org, scope.clause()]
        if criteria.status is not None:
            where.append(Conversation.status == criteria.status)
        else:
            where.append(NOT_CLOSED)
        if criteria.unassigned:
            where.append(Conversation.assigned_to_id.is_(None))
        elif criteria.assigned_to is not None:
            where.append(Conversation.assigned_to_id == criteria.assigned_to)
        if criteria.team_id is not None:
            where.append(Conversation.team_id == criteria.team_id)
        if criteria.category is not None:
            where.append(Conversation.category == criteria.category)
        if criteria.origin is not None:
            where.append(Conversation.origin == criteria.origin)
        if criteria.tag_id is not None:
            tagged = select(ConversationTag.conversation_id).where(ConversationTag.tag_id == criteria.tag_id)
            where.append(Conversation.id.in_(tagged))
        if criteria.sub_filter == SubFilter.UNREAD:
            where.append(UNREAD)
        elif criteria.sub_filter == SubFilter.NEEDS_ACTION:
            where.append(NEEDS_ACTION)
        if criteria.search:
            where.append(Conversation.id.in_(self._search(criteria.search, where)))
        return where

    def _search(self, term: str, where: list[ColumnElement[bool]]) -> Any:
        """Ids of the conversations whose contact matches ``term``, or that are among the
        conversations (meeting ``where``) of the ``TEXT_MATCHES`` most recent messages containing it.

        PostgreSQL answers the text part either from the trigram index (a rare term: an order
        number) or by walking the organization's messages newest first (a common word, found in
        many messages: the walk stops at the cap instead of collecting every match). The pattern is
        inlined into the statement, so each term gets its own plan, never a generic one.
        """
        org_id = self.tenant.organization_id
        by_contact = (
            select(Conversation.id)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.organization_id == org_id, Conversation.organization_id == org_id)
            .where(contact_matches(term))
        )
        if len(term) < MIN_TEXT_SEARCH:
            return by_contact
        pattern: BindParameter[str] = bindparam("text_pattern", like_pattern(term), literal_execute=True)
        recent_matches = (
            select(Message.conversation_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.organization_id == org_id, Message.text.ilike(pattern, escape="\\"), *where)
            .order_by(Message.ordered_at.desc(), Message.id.desc())
            .limit(TEXT_MATCHES)
            .subquery()
        )
        return union(by_contact, select(recent_matches.c.conversation_id))

    async def page(
        self,
        scope: ConversationScope,
        criteria: ConversationFilter,
        sort: ConversationSort,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Conversation], CursorMeta]:
        order = SORTS[sort]
        column = _SORT_COLUMN[sort]
        stmt = select(Conversation).where(*self.conditions(scope, criteria))
        return await cursor_page(
            self.session, stmt, order, cursor, limit, key=lambda c: (getattr(c, column), c.id)
        )

    async def one_in_view(
        self, scope: ConversationScope, criteria: ConversationFilter, conversation_id: str
    ) -> Conversation | None:
        """The conversation ``conversation_id`` if it is among those ``criteria`` select in ``scope``."""
        stmt = select(Conversation).where(
            Conversation.id == conversation_id, *self.conditions(scope, criteria)
        )
        return await self.session.scalar(stmt)

    async def counts_by_scan(
        self, scope: ConversationScope, criteria: ConversationFilter
    ) -> tuple[int, int, int]:
        """All, unread and needs-action conversations, counted from the conversations themselves
        (for the filters the counters do not cover: tags, search), in one pass."""
        stmt = (
            select(func.count(), func.count().filter(UNREAD), func.count().filter(NEEDS_ACTION))
            .select_from(Conversation)
            .where(*self.conditions(scope, criteria))
        )
        row = (await self.session.execute(stmt)).one()
        return int(row[0]), int(row[1]), int(row[2])

    async def categories(self) -> list[str]:
        """The distinct categories, walked through the ``(organization_id, category)`` index one
        value at a time (a loose index scan), so the cost follows the number of categories, not of
        conversations."""
        walk = text(
            """
            WITH RECURSIVE walk(category) AS (
                SELECT (SELECT c.category FROM conversations c
                        WHERE c.organization_id = :org AND c.category IS NOT NULL
                        ORDER BY c.category LIMIT 1)
                UNION ALL
                SELECT (SELECT c.category FROM conversations c
                        WHERE c.organization_id = :org AND c.category > walk.category
                        ORDER BY c.category LIMIT 1)
                FROM walk WHERE walk.category IS NOT NULL
            )
            SELECT category FROM walk WHERE category IS NOT NULL
            """
        )
        rows = await self.session.scalars(walk, {"org": self.tenant.organization_id})
        return list(rows)

    async def contact_history(
        self, scope: ConversationScope, conversation: Conversation
    ) -> Sequence[Conversation]:
        stmt = (
            self.visible(scope)
            .where(Conversation.contact_id == conversation.contact_id, Conversation.id != conversation.id)
            .order_by(*SORTS[ConversationSort.NEWEST].order_by())
            .limit(CONTACT_HISTORY_LIMIT)
        )
        return await self.list(stmt)
