"""A conversation's summary (last message, its preview, unread count, needs-action) moving forward
with each new message, whichever channel carried it: on a conversation the caller holds locked
(``absorb``), or in one atomic UPDATE (``record_message``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, event, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from cxinbox.core.clock import utcnow
from cxinbox.models.identity import User
from cxinbox.models.inbox import Contact, Conversation, ConversationStatus, Message
from cxinbox.models.tags import Tag


def absorb(conversation: Conversation, message: Message, preview: str, *, from_customer: bool) -> None:
    """Move a locked conversation's summary forward with a new message. Summary fields only move
    forward in provider time, so messages processed out of order leave the newest as the preview."""
    at = message.ordered_at
    if conversation.last_message_at is None or conversation.last_message_at <= at:
        conversation.last_message_at = at
        conversation.last_message_preview = preview
    if from_customer:
        conversation.unread_count += 1
        conversation.needs_action = True
        conversation.last_inbound_at = _latest(conversation.last_inbound_at, at)


def _latest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or current < at else current


async def reload(session: AsyncSession, conversation_id: str) -> Conversation:
    """The conversation as it is now, with what its events carry (contact, assignee, tags) loaded in
    the same statement (each relationship's own SELECT made it four); no statement when
    ``record_message`` loaded it so in this transaction (PostgreSQL) and nothing it carries was
    written through the session since."""
    loaded = _fresh(session).get(conversation_id)
    if loaded is not None:
        return loaded
    found = await session.scalars(_RELOAD, {"conversation_id": conversation_id})
    return found.unique().one()


async def reload_many(session: AsyncSession, conversation_ids: Collection[str]) -> dict[str, Conversation]:
    """``reload`` of several conversations, by id: those ``record_message`` did not load in one
    statement."""
    fresh = _fresh(session)
    found = {id: fresh[id] for id in conversation_ids if id in fresh}
    missing = [id for id in conversation_ids if id not in found]
    if missing:
        rows = await session.scalars(_RELOAD_MANY, {"ids": missing})
        found |= {conversation.id: conversation for conversation in rows.unique()}
    return found


def _fresh(session: AsyncSession) -> dict[str, Conversation]:
    """The conversations ``record_message`` loaded in the session's transaction, still current."""
    fresh: _Fresh | None = session.info.get(_FRESH)
    if fresh is None or fresh.transaction is not session.sync_session.get_transaction():
        return {}
    return fresh.conversations


def _with_what_events_carry(conversation: Any) -> Any:
    """The conversations of ``conversation`` (the entity, or an alias of it) with their contact,
    assignee and tags, loaded in the same statement, replacing what the session holds."""
    return (
        select(conversation)
        .options(
            joinedload(conversation.contact),
            joinedload(conversation.assigned_to),
            joinedload(conversation.tags),
        )
        .execution_options(populate_existing=True)
    )


_RELOAD = _with_what_events_carry(Conversation).where(Conversation.id == bindparam("conversation_id"))
_RELOAD_MANY = _with_what_events_carry(Conversation).where(
    Conversation.id.in_(bindparam("ids", expanding=True))
)


@dataclass
class _Fresh:
    """The conversations ``record_message`` loaded as ``reload`` does, in ``transaction``."""

    transaction: Any
    conversations: dict[str, Conversation] = field(default_factory=dict)


#: ``session.info``'s key of its ``_Fresh``
_FRESH = "summary_fresh"
#: the tables of what a reloaded conversation carries: a write to one in the session forgets ``_Fresh``
_CARRIED = frozenset({"conversations", "contacts", "users", "tags", "conversation_tags"})
_CARRIED_MODELS = (Conversation, Contact, User, Tag)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_statement(state: ORMExecuteState) -> None:
    if _FRESH not in state.session.info or state.is_select:
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name is None or name in _CARRIED:  # a target that is not plain (text SQL): assume it is carried
        del state.session.info[_FRESH]


@event.listens_for(Session, "before_flush")
def _forget_on_flush(session: Session, _flush: Any, _instances: Any) -> None:
    if _FRESH in session.info and any(
        isinstance(obj, _CARRIED_MODELS) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        del session.info[_FRESH]


async def record_message(
    session: AsyncSession,
    message: Message,
    preview: str,
    *,
    from_customer: bool,
    while_status: ConversationStatus | None = None,
) -> bool:
    """Move the summary of a conversation that is not locked forward with ``message`` in one atomic
    UPDATE, by the rules of ``absorb`` (its result is written into the conversation if this session
    holds it, so no reload is needed); the unread counter is an increment, never a
    read-modify-write. With ``while_status`` (an outbound message) the UPDATE is also a
    compare-and-set: nothing changes, and the answer is False, unless the conversation is in that
    status, and it stays so until the transaction ends (the row is locked on PostgreSQL; SQLite runs
    one write transaction at once)."""
    params = {
        "conversation_id": message.conversation_id,
        "at": message.ordered_at,
        "preview": preview,
        "now": utcnow(),
    }
    if while_status is None:
        stmt = _SUMMARY_UPDATES[from_customer]
    else:
        params["while_status"] = while_status
        if session.get_bind().dialect.name == "postgresql":
            return await _record_and_reload(session, message.conversation_id, params)
        stmt = _SUMMARY_UPDATE_WHILE
    row = (await session.execute(stmt, params)).one_or_none()
    if row is None:
        return False
    loaded = session.identity_map.get(identity_key(Conversation, message.conversation_id))
    if loaded is not None:  # the loaded conversation shows the new summary without a reload
        for name, value in row._mapping.items():
            set_committed_value(loaded, name, value)
    return True


async def _record_and_reload(session: AsyncSession, conversation_id: str, params: dict[str, Any]) -> bool:
    """PostgreSQL: the compare-and-set UPDATE of an outbound message in a CTE, the conversation
    loaded from what it returns as ``reload`` loads it, in one statement; the next ``reload`` of it
    (its sender publishes it) then runs none."""
    found = (await session.scalars(_UPDATE_AND_RELOAD_WHILE, params)).unique().one_or_none()
    if found is None:
        return False
    fresh = session.info.get(_FRESH)
    transaction = session.sync_session.get_transaction()
    if fresh is None or fresh.transaction is not transaction:
        fresh = session.info[_FRESH] = _Fresh(transaction)
    fresh.conversations[conversation_id] = found
    return True


async def record_outbound(
    session: AsyncSession, conversation_ids: Collection[str], at: datetime, preview: str
) -> dict[str, Any]:
    """``record_message`` of new outbound messages (one per conversation, all ``at`` with the same
    ``preview``) in one UPDATE of their conversations (a campaign's slice). The conversations this
    session holds are given their new summary; answers every conversation's, by id (the row's
    ``last_message_at``, ``last_message_preview`` and ``updated_at``)."""
    if not conversation_ids:
        return {}
    table = Conversation.__table__.c
    stmt = _SUMMARY_VALUES.where(table.id.in_(list(conversation_ids))).returning(
        table.id, table.last_message_at, table.last_message_preview, table.updated_at
    )
    rows = await session.execute(stmt, {"at": at, "preview": preview, "now": utcnow()})
    summaries = {}
    for row in rows:
        summaries[row.id] = row
        loaded = session.identity_map.get(identity_key(Conversation, row.id))
        if loaded is not None:
            for name in SUMMARY_FIELDS:
                set_committed_value(loaded, name, getattr(row, name))
    return summaries


#: what ``record_outbound`` moves forward
SUMMARY_FIELDS = ("last_message_at", "last_message_preview", "updated_at")


def _summary_update(*, from_customer: bool) -> Any:
    """The summary UPDATE of one conversation, built once (statement building costs more than
    running it)."""
    values = _summary_values(from_customer=from_customer)
    table = Conversation.__table__.c
    return (
        update(cast(Table, Conversation.__table__))
        .where(table.id == bindparam("conversation_id"))
        .values(**values)
        .returning(*(table[name] for name in values))
    )


def _summary_values(*, from_customer: bool) -> dict[str, Any]:
    """The summary UPDATE's values, of the parameters ``:at``, ``:preview`` and ``:now``."""
    table = Conversation.__table__.c
    at = bindparam("at", type_=table.last_message_at.type)
    newer = or_(table.last_message_at.is_(None), table.last_message_at <= at)
    values: dict[str, Any] = {
        "last_message_at": case((newer, at), else_=table.last_message_at),
        "last_message_preview": case((newer, bindparam("preview")), else_=table.last_message_preview),
        "updated_at": bindparam("now", type_=table.updated_at.type),
    }
    if from_customer:
        values |= {
            "unread_count": table.unread_count + 1,
            "needs_action": True,
            "last_inbound_at": _later(table.last_inbound_at, at),
        }
    return values


def _later(column: Any, at: Any) -> Any:
    return case((or_(column.is_(None), column < at), at), else_=column)


_SUMMARY_UPDATES = {flag: _summary_update(from_customer=flag) for flag in (False, True)}
_WHILE = Conversation.__table__.c.status == bindparam(
    "while_status", type_=Conversation.__table__.c.status.type
)
#: an outbound message's summary UPDATE, only while the conversation is in the status ``:while_status``
_SUMMARY_UPDATE_WHILE = _SUMMARY_UPDATES[False].where(_WHILE)
#: the same on PostgreSQL, the conversation as ``reload`` loads it read from what it returns
_UPDATE_AND_RELOAD_WHILE = _with_what_events_carry(
    aliased(
        Conversation,
        update(cast(Table, Conversation.__table__))
        .where(Conversation.__table__.c.id == bindparam("conversation_id"), _WHILE)
        .values(**_summary_values(from_customer=False))
        .returning(*Conversation.__table__.c)
        .cte("updated"),
    )
)
_SUMMARY_VALUES = update(cast(Table, Conversation.__table__)).values(**_summary_values(from_customer=False))
