"""Contacts and conversations of inbound messages, created idempotently and updated atomically.

Creation is insert-on-conflict-do-nothing followed by a read, so two workers handling the first
messages of a new customer at once end with one contact and one open conversation (the partial
unique index allows a single conversation per contact and number that is not CLOSED).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from cxinbox.core.clock import utcnow
from cxinbox.core.db import insert_new
from cxinbox.core.events import publish_event
from cxinbox.models.inbox import Contact, Conversation, ConversationStatus, Message
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.schemas import ConversationOut, message_out


@dataclass
class _Loaded:
    """What this transaction has read already: contacts by (organization, wa_id), open
    conversations by (number, contact)."""

    contacts: dict[tuple[str, str], Contact] = field(default_factory=dict)
    conversations: dict[tuple[str, str], Conversation] = field(default_factory=dict)


def _loaded(session: AsyncSession) -> _Loaded:
    loaded: _Loaded | None = session.info.get(_LOADED_KEY)
    if loaded is None:
        loaded = session.info[_LOADED_KEY] = _Loaded()
    return loaded


_LOADED_KEY = "inbound_threads"


async def prefetch(session: AsyncSession, account: WhatsAppAccount, wa_ids: Collection[str]) -> None:
    """Read the contacts of ``wa_ids`` and their open conversations on ``account`` in two queries,
    so that processing a batch of webhooks reads each of them no more."""
    loaded = _loaded(session)
    org_id = account.organization_id
    contacts = await session.scalars(
        select(Contact).where(Contact.organization_id == org_id, Contact.wa_id.in_(set(wa_ids)))
    )
    by_id = {c.id: c for c in contacts}
    for contact in by_id.values():
        loaded.contacts[org_id, contact.wa_id] = contact
    if not by_id:
        return
    for conversation in await session.scalars(_open_conversations(account.id, by_id)):
        set_committed_value(conversation, "contact", by_id[conversation.contact_id])
        loaded.conversations[account.id, conversation.contact_id] = conversation


async def upsert_contact(
    session: AsyncSession, organization_id: str, wa_id: str, profile: dict[str, Any] | None
) -> Contact:
    """The contact of ``wa_id``, created if new; its profile fields follow the latest webhook."""
    profile = profile or {}
    loaded = _loaded(session)
    contact = loaded.contacts.get((organization_id, wa_id)) or await _contact(session, organization_id, wa_id)
    if contact is None:
        await insert_new(session, Contact, organization_id=organization_id, wa_id=wa_id, phone=_phone(wa_id))
        contact = await _contact(session, organization_id, wa_id)
        assert contact is not None
    loaded.contacts[organization_id, wa_id] = contact
    name = (profile.get("profile") or {}).get("name")
    changes = {
        "name": name,
        "user_id": profile.get("user_id"),
        "username": (profile.get("profile") or {}).get("username"),
    }
    for attr, value in changes.items():
        if value and getattr(contact, attr) != value:
            setattr(contact, attr, value)
    return contact


async def _contact(session: AsyncSession, organization_id: str, wa_id: str) -> Contact | None:
    stmt = select(Contact).where(Contact.organization_id == organization_id, Contact.wa_id == wa_id)
    return await session.scalar(stmt)


def _phone(wa_id: str) -> str | None:
    """A wa_id is the phone number in international format without '+' (a BSUID is not)."""
    return f"+{wa_id}" if wa_id.isdigit() else None


async def open_conversation(
    session: AsyncSession, account: WhatsAppAccount, contact: Contact
) -> tuple[Conversation, bool]:
    """The contact's conversation on this number that is not CLOSED, opened if there is none."""
    loaded = _loaded(session)
    conversation = loaded.conversations.get((account.id, contact.id))
    conversation = conversation or await load_open_conversation(session, account.id, contact)
    if conversation is not None:
        loaded.conversations[account.id, contact.id] = conversation
        return conversation, False
    created = await insert_new(
        session,
        Conversation,
        organization_id=account.organization_id,
        contact_id=contact.id,
        whatsapp_account_id=account.id,
        status=ConversationStatus.OPEN,
    )
    conversation = await load_open_conversation(session, account.id, contact)
    assert conversation is not None  # ours, or a concurrent transaction's
    loaded.conversations[account.id, contact.id] = conversation
    return conversation, created is not None


async def load_open_conversation(
    session: AsyncSession, account_id: str, contact: Contact
) -> Conversation | None:
    """The contact at hand is attached, not read again."""
    conversation = await session.scalar(_open_conversations(account_id, {contact.id: contact}))
    if conversation is not None:
        set_committed_value(conversation, "contact", contact)
    return conversation


def _open_conversations(account_id: str, contacts: Collection[str]) -> Any:
    """Read fresh (``populate_existing``): other transactions close, assign and reopen them."""
    return (
        select(Conversation)
        .where(
            Conversation.whatsapp_account_id == account_id,
            Conversation.contact_id.in_(list(contacts)),
            Conversation.status != ConversationStatus.CLOSED,
        )
        .options(lazyload(Conversation.contact))
        .execution_options(populate_existing=True)
    )


async def reload(session: AsyncSession, conversation_id: str) -> Conversation:
    stmt = (
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one()


async def record_message(
    session: AsyncSession, message: Message, preview: str, *, from_customer: bool
) -> None:
    """Move the conversation's summary forward with ``message`` in one atomic UPDATE (its result
    is written into the conversation if this session holds it, so no reload is needed).

    Summary fields only move forward in provider time, so messages processed out of order leave the
    newest one as the preview; the unread counter is an increment, never a read-modify-write.
    """
    stmt = _SUMMARY_UPDATES[from_customer]
    params = {
        "conversation_id": message.conversation_id,
        "at": message.ordered_at,
        "preview": preview,
        "now": utcnow(),
    }
    row = (await session.execute(stmt, params)).one()
    loaded = session.identity_map.get(identity_key(Conversation, message.conversation_id))
    if loaded is not None:  # the loaded conversation shows the new summary without a reload
        for name, value in row._mapping.items():
            set_committed_value(loaded, name, value)


def _summary_update(*, from_customer: bool) -> Any:
    """The summary UPDATE, built once (statement building costs more than running it)."""
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
    return (
        update(cast(Table, Conversation.__table__))
        .where(table.id == bindparam("conversation_id"))
        .values(**values)
        .returning(*(table[name] for name in values))
    )


def _later(column: Any, at: Any) -> Any:
    return case((or_(column.is_(None), column < at), at), else_=column)


_SUMMARY_UPDATES = {flag: _summary_update(from_customer=flag) for flag in (False, True)}


def audience(conversation: Conversation) -> dict[str, Any]:
    """What the realtime stream filters on: who may see events of this conversation."""
    return {
        "conversationId": conversation.id,
        "assignedToId": conversation.assigned_to_id,
        "teamId": conversation.team_id,
    }


def publish_conversation(
    session: AsyncSession,
    conversation: Conversation,
    type: str,
    *,
    previous_audience: dict[str, Any] | None = None,
) -> None:
    """``previous_audience`` (``previousAssignedToId``, ``previousTeamId``) lets those who could see
    the conversation before this change learn that it left their view."""
    data = ConversationOut.model_validate(conversation).model_dump(mode="json", by_alias=True)
    event_audience = audience(conversation) | (previous_audience or {})
    publish_event(session, conversation.organization_id, type, data, event_audience)


def publish_message(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, message: Message, type: str
) -> None:
    data = message_out(runtime, message).model_dump(mode="json", by_alias=True)
    publish_event(session, message.organization_id, type, data, audience(conversation))


async def publish_message_updated(session: AsyncSession, runtime: Runtime, message: Message) -> None:
    await session.flush()
    conversation = await session.get_one(Conversation, message.conversation_id)
    publish_message(session, runtime, conversation, message, "message.updated")
