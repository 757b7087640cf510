"""Contacts and conversations of inbound messages, created idempotently (their summaries move
forward in ``conversations/summary.py``).

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
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from cxinbox.core.db import dialect_insert
from cxinbox.core.ids import new_id
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
                **_opening(senders[by_id[contact_id]]),
            }
            for contact_id in missing
        ]
        insert = dialect_insert(session)(Conversation).on_conflict_do_nothing().returning(Conversation.id)
        opened = set(await session.scalars(insert, rows))
        found |= await _lock_open_conversations(session, account.id, {i: by_id[i] for i in missing})
    return {
        contact_id: (conversation, conversation.id in opened) for contact_id, conversation in found.items()
    }


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
        set_committed_value(conversation, "contact", contacts[conversation.contact_id])
        found[conversation.contact_id] = conversation
    return found
