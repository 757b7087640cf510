"""Contacts and conversations of inbound messages, created idempotently (their summaries move
forward in ``conversations/summary.py``).

A batch of inbound messages is resolved to its threads (contact and open conversation) in a few
statements: the contacts of every sender in one read, the missing ones created (with their profile)
in one insert-on-conflict-do-nothing that answers the rows it inserted, and likewise the open
conversations (of the contacts that existed before the batch: a contact it creates has none). Only
what another transaction created meanwhile is read back: two workers handling the first messages
of a new customer at once end with one contact and one open conversation (the partial unique index
allows a single conversation per contact and number that is not CLOSED).

The open conversations are read ``FOR UPDATE``: until the batch commits, no agent can close,
assign or reopen them, so their summaries are computed from what was read, and no message is
attached to a conversation that was closed meanwhile.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from cxinbox.core.bulk_rows import insert_rows
from cxinbox.core.clock import utcnow
from cxinbox.core.db import dialect_insert, insert_new_rows
from cxinbox.core.ids import new_id, new_ids
from cxinbox.models.inbox import Contact, Conversation, ConversationOrigin, ConversationStatus
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.whatsapp.payload import child


@dataclass(frozen=True)
class Sender:
    """Who wrote to which number, with the profile of their latest message (``contacts[]`` of the
    webhook: ``profile.name``, ``profile.username``, ``user_id``)."""

    account: WhatsAppAccount
    wa_id: str
    profile: Mapping[str, Any] | None = None
    #: sent by the development simulator: a conversation it opens is SIMULATED
    simulated: bool = False
    #: the business writes first (a template to a phone number): a conversation it opens is
    #: OUTBOUND and waits for the customer
    business_first: bool = False


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
    by_org: dict[str, dict[str, Mapping[str, Any] | None]] = defaultdict(dict)
    for sender in latest.values():
        by_org[sender.account.organization_id][sender.wa_id] = sender.profile
    contacts: dict[tuple[str, str], Contact] = {}
    created: set[str] = set()  # contacts this batch created: they have no conversation yet
    for org_id, profiles in by_org.items():
        contacts |= await _contacts(session, org_id, profiles, created)
    for sender in latest.values():
        _follow_profile(contacts[sender.account.organization_id, sender.wa_id], sender.profile)
    by_account: dict[str, dict[Contact, Sender]] = defaultdict(dict)
    for sender in latest.values():
        by_account[sender.account.id][contacts[sender.account.organization_id, sender.wa_id]] = sender
    threads: dict[ThreadKey, Thread] = {}
    for account_id, account_senders in by_account.items():
        opened = await _conversations(session, account_senders, created)
        for contact in account_senders:
            conversation, is_new = opened[contact.id]
            threads[account_id, contact.wa_id] = Thread(contact, conversation, is_new)
    return threads


async def _contacts(
    session: AsyncSession, org_id: str, profiles: Mapping[str, Mapping[str, Any] | None], created: set[str]
) -> dict[tuple[str, str], Contact]:
    """The contacts of the wa_ids of ``profiles``, created when missing with their profile (one
    read, one insert answering its rows, whose ids go to ``created``; a read back only of those
    another transaction created meanwhile)."""
    found = await _read_contacts(session, org_id, profiles)
    missing = [w for w in profiles if w not in found]
    if missing:
        rows = [
            {"organization_id": org_id, "wa_id": w, "phone": _phone(w), **_profile_fields(profiles[w], None)}
            for w in missing
        ]
        for contact in await insert_new_rows(session, Contact, rows):
            found[contact.wa_id] = contact
            created.add(contact.id)
        if raced := [w for w in missing if w not in found]:
            found |= await _read_contacts(session, org_id, raced)
    return {(org_id, wa_id): contact for wa_id, contact in found.items()}


async def _read_contacts(session: AsyncSession, org_id: str, wa_ids: Collection[str]) -> dict[str, Contact]:
    stmt = select(Contact).where(Contact.organization_id == org_id, Contact.wa_id.in_(list(wa_ids)))
    return {c.wa_id: c for c in await session.scalars(stmt)}


def _follow_profile(contact: Contact, profile: Mapping[str, Any] | None) -> None:
    """The contact's WhatsApp fields follow the profile; its ``name`` too, unless a person set it."""
    for attr, value in _profile_fields(profile, contact).items():
        if value and getattr(contact, attr) != value:
            setattr(contact, attr, value)


def _profile_fields(profile: Mapping[str, Any] | None, contact: Contact | None) -> dict[str, Any]:
    """The contact fields ``profile`` gives (None: it gives none), for ``contact`` or a new one:
    ``name`` unless a person set it."""
    profile = profile or {}
    names = child(profile, "profile")
    fields = {
        "profile_name": names.get("name"),
        "user_id": profile.get("user_id"),
        "username": names.get("username"),
    }
    if contact is None or not contact.name_edited:
        fields["name"] = names.get("name")
    return fields


def _phone(wa_id: str) -> str | None:
    """A wa_id is the phone number in international format without '+' (a BSUID is not)."""
    return f"+{wa_id}" if wa_id.isdigit() else None


async def _conversations(
    session: AsyncSession, senders: Mapping[Contact, Sender], created: Collection[str]
) -> dict[str, tuple[Conversation, bool]]:
    """By contact id: the open conversation of each contact on its sender's number (one number for
    all), locked, and whether this call opened it. A contact of ``created`` (uncommitted: no other
    transaction can refer to it) has none to look for."""
    by_id = {c.id: c for c in senders}
    account = next(iter(senders.values())).account
    known = {i: c for i, c in by_id.items() if i not in created}
    found = await _lock_open_conversations(session, account.id, known) if known else {}
    missing = [contact_id for contact_id in by_id if contact_id not in found]
    opened: set[str] = set()
    if missing:
        rows = [
            {
                "organization_id": account.organization_id,
                "contact_id": contact_id,
                "whatsapp_account_id": account.id,
                **_opening(senders[by_id[contact_id]]),
            }
            for contact_id in missing
        ]
        inserted = await insert_new_rows(session, Conversation, rows, unloaded=_RELATIONSHIPS)
        for conversation in inserted:  # locked: ours until commit
            _attach(conversation, by_id[conversation.contact_id], tags=[], assigned_to=None)
            found[conversation.contact_id] = conversation
            opened.add(conversation.id)
        if raced := {i: by_id[i] for i in missing if i not in found}:  # opened meanwhile elsewhere
            found |= await _lock_open_conversations(session, account.id, raced)
    return {
        contact_id: (conversation, conversation.id in opened) for contact_id, conversation in found.items()
    }


#: what a conversation refers to, set from what the caller holds when it opens one
_RELATIONSHIPS = ("contact", "tags", "assigned_to")


def _opening(sender: Sender) -> dict[str, Any]:
    """The status and origin of a conversation ``sender`` opens."""
    if sender.simulated:
        return {"status": ConversationStatus.OPEN, "origin": ConversationOrigin.SIMULATED}
    if sender.business_first:
        return {"status": ConversationStatus.WAITING_FOR_CUSTOMER, "origin": ConversationOrigin.OUTBOUND}
    return {"status": ConversationStatus.OPEN, "origin": ConversationOrigin.INBOUND}


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
        _attach(conversation, contacts[conversation.contact_id])
        found[conversation.contact_id] = conversation
    return found


def _attach(conversation: Conversation, contact: Contact, **known: Any) -> None:
    """Set what the caller holds of ``conversation``'s relationships as loaded (none is read)."""
    for name, value in {"contact": contact, **known}.items():
        set_committed_value(conversation, name, value)


@dataclass
class OpenedContact:
    """A contact ``open_outbound_threads`` created: the fields ``ContactOut`` reads, as written."""

    id: str
    organization_id: str
    wa_id: str
    phone: str | None
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    profile_name: str | None = None
    name_edited: bool = False
    user_id: str | None = None
    username: str | None = None
    category: str | None = None


@dataclass
class OpenedConversation:
    """A conversation ``open_outbound_threads`` opened (OUTBOUND, waiting for the customer), with
    the fields ``ConversationOut`` reads, as written: nobody is assigned, no tag, no follow-up."""

    id: str
    organization_id: str
    contact: OpenedContact
    whatsapp_account_id: str
    created_at: datetime
    updated_at: datetime
    status: ConversationStatus = ConversationStatus.WAITING_FOR_CUSTOMER
    origin: ConversationOrigin = ConversationOrigin.OUTBOUND
    assigned_to_id: str | None = None
    assigned_to: None = None
    team_id: str | None = None
    category: str | None = None
    priority: str = "NORMAL"
    tags: list[Any] = field(default_factory=list)
    unread_count: int = 0
    needs_action: bool = False
    last_message_at: datetime | None = None
    last_message_preview: str | None = None
    last_inbound_at: datetime | None = None
    closed_at: datetime | None = None
    follow_up: None = None

    @property
    def contact_id(self) -> str:
        return self.contact.id


_CONTACTS = cast(Table, Contact.__table__)
_NEW_CONVERSATION_COLUMNS = (
    "id", "organization_id", "contact_id", "whatsapp_account_id", "status", "origin", "priority",
    "unread_count", "needs_action", "created_at", "updated_at",
)  # fmt: skip


async def open_outbound_threads(
    session: AsyncSession, account: WhatsAppAccount, wa_ids: Sequence[str]
) -> dict[str, Conversation | OpenedConversation]:
    """By wa_id: the open conversation on ``account`` that the business writes first to (a
    campaign's recipients: no profile to follow), as ``resolve_threads`` with ``business_first``
    gives it. The wa_ids without a contact (most of a campaign's, the first time) skip the ORM:
    their contacts are inserted with one Core statement answering only the ids it inserted, and
    their conversations (none can exist: their contacts are this transaction's) copied in as
    plain rows, then given as ``OpenedConversation``. The others (a contact exists, or another
    transaction created it meanwhile) go through ``resolve_threads``."""
    org_id, wanted = account.organization_id, list(dict.fromkeys(wa_ids))
    known = set(
        await session.scalars(
            select(Contact.wa_id).where(Contact.organization_id == org_id, Contact.wa_id.in_(wanted))
        )
    )
    threads: dict[str, Conversation | OpenedConversation] = {}
    if new := [w for w in wanted if w not in known]:
        threads |= await _opened(session, account, new)
    if rest := [w for w in wanted if w not in threads]:
        resolved = await resolve_threads(session, [Sender(account, w, business_first=True) for w in rest])
        threads |= {w: resolved[account.id, w].conversation for w in rest}
    return threads


async def _opened(
    session: AsyncSession, account: WhatsAppAccount, wa_ids: list[str]
) -> dict[str, OpenedConversation]:
    """Contacts and conversations for ``wa_ids`` (no contact was found for them), except those
    whose contact another transaction inserted meanwhile (left out: the caller resolves them)."""
    org_id, now = account.organization_id, utcnow()
    contact_ids = dict(zip(wa_ids, new_ids(len(wa_ids)), strict=True))
    shared = {"organization_id": org_id, "name_edited": False, "created_at": now, "updated_at": now}
    rows = [{"id": contact_ids[w], "wa_id": w, "phone": _phone(w), **shared} for w in wa_ids]
    inserted = set(
        await session.scalars(
            dialect_insert(session)(_CONTACTS).on_conflict_do_nothing().returning(_CONTACTS.c.id), rows
        )
    )
    opened: dict[str, OpenedConversation] = {}
    for wa_id in wa_ids:
        if (contact_id := contact_ids[wa_id]) in inserted:
            contact = OpenedContact(contact_id, org_id, wa_id, _phone(wa_id), now, now)
            opened[wa_id] = OpenedConversation(new_id(), org_id, contact, account.id, now, now)
    await insert_rows(
        session,
        cast(Table, Conversation.__table__),
        _NEW_CONVERSATION_COLUMNS,
        [
            (c.id, org_id, c.contact.id, account.id, c.status, c.origin, c.priority, 0, False, now, now)
            for c in opened.values()
        ],
    )
    return opened
