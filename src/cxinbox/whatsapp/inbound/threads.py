"""Contacts and conversations of inbound messages, created idempotently and updated atomically.

Creation is insert-on-conflict-do-nothing followed by a read, so two workers handling the first
messages of a new customer at once end with one contact and one open conversation (the partial
unique index allows a single conversation per contact and number that is not CLOSED).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, or_, select, update
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


async def upsert_contact(
    session: AsyncSession, organization_id: str, wa_id: str, profile: dict[str, Any] | None
) -> Contact:
    """The contact of ``wa_id``, created if new; its profile fields follow the latest webhook.

    A known contact costs one read (none when this transaction already loaded it)."""
    profile = profile or {}
    contact = await _contact(session, organization_id, wa_id)
    if contact is None:
        await insert_new(session, Contact, organization_id=organization_id, wa_id=wa_id, phone=_phone(wa_id))
        contact = await _contact(session, organization_id, wa_id)
        assert contact is not None
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
    conversation = await load_open_conversation(session, account.id, contact)
    if conversation is not None:
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
    return conversation, created is not None


async def load_open_conversation(
    session: AsyncSession, account_id: str, contact: Contact
) -> Conversation | None:
    """Read fresh (``populate_existing``): other transactions close, assign and reopen them. The
    contact is the one at hand, not read again."""
    stmt = (
        select(Conversation)
        .where(
            Conversation.whatsapp_account_id == account_id,
            Conversation.contact_id == contact.id,
            Conversation.status != ConversationStatus.CLOSED,
        )
        .options(lazyload(Conversation.contact))
        .execution_options(populate_existing=True)
    )
    conversation = await session.scalar(stmt)
    if conversation is not None:
        set_committed_value(conversation, "contact", contact)
    return conversation


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
    at = message.ordered_at
    newer = or_(Conversation.last_message_at.is_(None), Conversation.last_message_at <= at)
    values: dict[str, Any] = {
        "last_message_at": case((newer, at), else_=Conversation.last_message_at),
        "last_message_preview": case((newer, preview), else_=Conversation.last_message_preview),
        "updated_at": utcnow(),
    }
    if from_customer:
        values |= {
            "unread_count": Conversation.unread_count + 1,
            "needs_action": True,
            "last_inbound_at": _later(Conversation.last_inbound_at, at),
            "status": case(
                (
                    Conversation.status == ConversationStatus.WAITING_FOR_CUSTOMER,
                    case(
                        (Conversation.assigned_to_id.is_(None), ConversationStatus.OPEN.value),
                        else_=ConversationStatus.HUMAN_HANDLING.value,
                    ),
                ),
                else_=Conversation.status,
            ),
        }
    summary = [getattr(Conversation, name) for name in values]
    row = (
        await session.execute(
            update(Conversation)
            .where(Conversation.id == message.conversation_id)
            .values(**values)
            .returning(*summary)
            .execution_options(synchronize_session=False)
        )
    ).one()
    loaded = session.identity_map.get(identity_key(Conversation, message.conversation_id))
    if loaded is not None:  # the loaded conversation shows the new summary without a reload
        for name, value in zip(values, row, strict=True):
            set_committed_value(loaded, name, value)


def _later(column: Any, at: datetime) -> Any:
    return case((or_(column.is_(None), column < at), at), else_=column)


def audience(conversation: Conversation) -> dict[str, Any]:
    """What the realtime stream filters on: who may see events of this conversation."""
    return {
        "conversationId": conversation.id,
        "assignedToId": conversation.assigned_to_id,
        "teamId": conversation.team_id,
    }


def publish_conversation(session: AsyncSession, conversation: Conversation, type: str) -> None:
    data = ConversationOut.model_validate(conversation).model_dump(mode="json", by_alias=True)
    publish_event(session, conversation.organization_id, type, data, audience(conversation))


def publish_message(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, message: Message, type: str
) -> None:
    data = message_out(runtime, message).model_dump(mode="json", by_alias=True)
    publish_event(session, message.organization_id, type, data, audience(conversation))


async def publish_message_updated(session: AsyncSession, runtime: Runtime, message: Message) -> None:
    await session.flush()
    conversation = await session.get_one(Conversation, message.conversation_id)
    publish_message(session, runtime, conversation, message, "message.updated")
