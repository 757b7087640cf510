"""Contacts and conversations of inbound messages, created idempotently and updated atomically.

A batch of inbound messages is resolved to its threads (contact and open conversation) in a few
statements: the contacts of every sender in one read, the missing ones created in one
insert-on-conflict-do-nothing and read back, and likewise the open conversations. Two workers
handling the first messages of a new customer at once end with one contact and one open
conversation (the partial unique index allows a single conversation per contact and number that is
not CLOSED).

The open conversations are read ``FOR UPDATE``: until the batch commits, no agent can close,
assign or reopen them, so their summaries are computed from what was read, and no message is
attached to a conversation that was closed meanwhile.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from cxinbox.core.clock import utcnow
from cxinbox.core.db import dialect_insert
from cxinbox.core.events import publish_event
from cxinbox.core.ids import new_id
from cxinbox.models.inbox import Contact, Conversation, ConversationOrigin, ConversationStatus, Message
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.payload import child
from cxinbox.whatsapp.schemas import ConversationOut, message_out


@dataclass(frozen=True)
class Sender:
    """Who wrote to which number, with the profile of their latest message (``contacts[]`` of the
    webhook: ``profile.name``, ``profile.username``, ``user_id``)."""

    account: WhatsAppAccount
    wa_id: str
    profile: Mapping[str, Any] | None = None
    #: sent by the development simulator: a conversation it opens is SIMULATED
    simulated: bool = False


@dataclass
class Thread:
    contact: Contact
    conversation: Conversation
    #: the conversation was opened by this batch
    opened: bool


ThreadKey = tuple[str, str]  # (account id, wa_id)


async def resolve_threads(session: AsyncSession, senders: Iterable[Sender]) -> dict[ThreadKey, Thread]:
    """The contact and the open conversation (locked until commit) of every sender, created when
    missing; the contacts' profile fields follow the latest profile given."""
    latest: dict[ThreadKey, Sender] = {}
    for sender in senders:
        latest[sender.account.id, sender.wa_id] = sender
    by_org: dict[str, set[str]] = defaultdict(set)
    for sender in latest.values():
        by_org[sender.account.organization_id].add(sender.wa_id)
    contacts: dict[tuple[str, str], Contact] = {}
    for org_id, wa_ids in by_org.items():
        contacts |= await _contacts(session, org_id, wa_ids)
    for sender in latest.values():
        _follow_profile(contacts[sender.account.organization_id, sender.wa_id], sender.profile)
    by_account: dict[str, dict[Contact, Sender]] = defaultdict(dict)
    for sender in latest.values():
        by_account[sender.account.id][contacts[sender.account.organization_id, sender.wa_id]] = sender
    threads: dict[ThreadKey, Thread] = {}
    for account_id, account_senders in by_account.items():
        opened = await _conversations(session, account_senders)
        for contact in account_senders:
            conversation, is_new = opened[contact.id]
            threads[account_id, contact.wa_id] = Thread(contact, conversation, is_new)
    return threads


async def _contacts(
    session: AsyncSession, org_id: str, wa_ids: Collection[str]
) -> dict[tuple[str, str], Contact]:
    """The contacts of ``wa_ids``, created when missing (one read, one insert, one read back)."""
    found = await _read_contacts(session, org_id, wa_ids)
    missing = [w for w in wa_ids if w not in found]
    if missing:
        rows = [{"id": new_id(), "organization_id": org_id, "wa_id": w, "phone": _phone(w)} for w in missing]
        await session.execute(dialect_insert(session)(Contact).on_conflict_do_nothing(), rows)
        found |= await _read_contacts(session, org_id, missing)
    return {(org_id, wa_id): contact for wa_id, contact in found.items()}


async def _read_contacts(session: AsyncSession, org_id: str, wa_ids: Collection[str]) -> dict[str, Contact]:
    stmt = select(Contact).where(Contact.organization_id == org_id, Contact.wa_id.in_(list(wa_ids)))
    return {c.wa_id: c for c in await session.scalars(stmt)}


def _follow_profile(contact: Contact, profile: Mapping[str, Any] | None) -> None:
    """The contact's WhatsApp fields follow the profile; its ``name`` too, unless a person set it."""
    if not profile:
        return
    names = child(profile, "profile")
    changes = {
        "profile_name": names.get("name"),
        "user_id": profile.get("user_id"),
        "username": names.get("username"),
    }
    if not contact.name_edited:
        changes["name"] = names.get("name")
    for attr, value in changes.items():
        if value and getattr(contact, attr) != value:
            setattr(contact, attr, value)


def _phone(wa_id: str) -> str | None:
    """A wa_id is the phone number in international format without '+' (a BSUID is not)."""
    return f"+{wa_id}" if wa_id.isdigit() else None


async def _conversations(
    session: AsyncSession, senders: Mapping[Contact, Sender]
) -> dict[str, tuple[Conversation, bool]]:
    """By contact id: the open conversation of each contact on its sender's number (one number for
    all), locked, and whether this call opened it."""
    by_id = {c.id: c for c in senders}
    account = next(iter(senders.values())).account
    found = await _lock_open_conversations(session, account.id, by_id)
    missing = [contact_id for contact_id in by_id if contact_id not in found]
    opened: set[str] = set()
    if missing:
        rows = [
            {
                "id": new_id(),
                "organization_id": account.organization_id,
                "contact_id": contact_id,
                "whatsapp_account_id": account.id,
                "status": ConversationStatus.OPEN,
                "origin": ConversationOrigin.SIMULATED
                if senders[by_id[contact_id]].simulated
                else ConversationOrigin.INBOUND,
            }
            for contact_id in missing
        ]
        insert = dialect_insert(session)(Conversation).on_conflict_do_nothing().returning(Conversation.id)
        opened = set(await session.scalars(insert, rows))
        found |= await _lock_open_conversations(session, account.id, {i: by_id[i] for i in missing})
    return {
        contact_id: (conversation, conversation.id in opened) for contact_id, conversation in found.items()
    }


async def _lock_open_conversations(
    session: AsyncSession, account_id: str, contacts: Mapping[str, Contact]
) -> dict[str, Conversation]:
    """The conversations of ``contacts`` on this number that are not CLOSED, read fresh
    (``populate_existing``) and locked in id order (so concurrent batches never deadlock on them);
    the contacts at hand are attached, not read again."""
    stmt = (
        select(Conversation)
        .where(
            Conversation.whatsapp_account_id == account_id,
            Conversation.contact_id.in_(list(contacts)),
            Conversation.status != ConversationStatus.CLOSED,
        )
        .order_by(Conversation.id)
        .with_for_update(of=Conversation)
        .options(lazyload(Conversation.contact))
        .execution_options(populate_existing=True)
    )
    found: dict[str, Conversation] = {}
    for conversation in await session.scalars(stmt):
        set_committed_value(conversation, "contact", contacts[conversation.contact_id])
        found[conversation.contact_id] = conversation
    return found


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
    stmt = (
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one()


async def record_message(
    session: AsyncSession, message: Message, preview: str, *, from_customer: bool
) -> None:
    """Move the summary of a conversation that is not locked forward with ``message`` in one atomic
    UPDATE, by the rules of ``absorb`` (its result is written into the conversation if this session
    holds it, so no reload is needed); the unread counter is an increment, never a
    read-modify-write."""
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
    await publish_messages_updated(session, runtime, [message])


async def publish_messages_updated(session: AsyncSession, runtime: Runtime, messages: list[Message]) -> None:
    """``message.updated`` for each of ``messages``; their conversations (for the audience) are read
    in one query, those this session holds already not at all."""
    if not messages:
        return
    await session.flush()
    held = {
        m.conversation_id: c
        for m in messages
        if (c := session.identity_map.get(identity_key(Conversation, m.conversation_id))) is not None
    }
    missing = {m.conversation_id for m in messages} - held.keys()
    if missing:
        stmt = select(Conversation).where(Conversation.id.in_(missing)).options(lazyload("*"))
        held |= {c.id: c for c in await session.scalars(stmt)}
    for message in messages:
        publish_message(session, runtime, held[message.conversation_id], message, "message.updated")
