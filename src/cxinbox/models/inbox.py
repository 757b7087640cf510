"""Contacts, conversations, messages and the delivery statuses Meta reports for them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxinbox.core.clock import utcnow
from cxinbox.models.base import TenantModel
from cxinbox.models.identity import User


class ConversationStatus(enum.StrEnum):
    BOT_HANDLING = "BOT_HANDLING"
    HUMAN_HANDLING = "HUMAN_HANDLING"
    OPEN = "OPEN"
    WAITING_FOR_CUSTOMER = "WAITING_FOR_CUSTOMER"
    CLOSED = "CLOSED"


class Direction(enum.StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class SenderType(enum.StrEnum):
    CUSTOMER = "CUSTOMER"
    BOT = "BOT"
    AGENT = "AGENT"
    SYSTEM = "SYSTEM"


class MessageType(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    REACTION = "reaction"
    TEMPLATE = "template"
    ORDER = "order"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"


class MessageStatus(enum.StrEnum):
    RECEIVED = "RECEIVED"
    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"


class MediaState(enum.StrEnum):
    PENDING = "PENDING"
    DOWNLOADED = "DOWNLOADED"
    FAILED = "FAILED"


class Contact(TenantModel):
    """A customer, keyed by WhatsApp id within the organization; ``user_id`` is Meta's
    business-scoped user id, which a user with a username may have instead of a phone number."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("organization_id", "wa_id"),)

    wa_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(128), index=True)
    username: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(64))


class Conversation(TenantModel):
    """The thread of one contact on one number. At most one conversation per contact and number is
    not CLOSED (a partial unique index), so concurrent first messages cannot open two."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index(
            "uq_conversations_open_contact_account",
            "contact_id",
            "whatsapp_account_id",
            unique=True,
            sqlite_where=text("status != 'CLOSED'"),
            postgresql_where=text("status != 'CLOSED'"),
        ),
        Index("ix_conversations_org_last_message", "organization_id", "last_message_at"),
        Index("ix_conversations_org_status_last_message", "organization_id", "status", "last_message_at"),
    )

    contact_id: Mapped[str] = mapped_column(String(36), ForeignKey("contacts.id", ondelete="CASCADE"))
    whatsapp_account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ConversationStatus] = mapped_column(default=ConversationStatus.OPEN)
    assigned_to_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    team_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16), default="NORMAL")
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    needs_action: Mapped[bool] = mapped_column(default=False)
    last_message_at: Mapped[datetime | None]
    last_message_preview: Mapped[str | None] = mapped_column(String(200))
    #: the customer's last message: the 24-hour service window runs from here
    last_inbound_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    contact: Mapped[Contact] = relationship(lazy="selectin")
    assigned_to: Mapped[User | None] = relationship(lazy="selectin")


class Message(TenantModel):
    """One message of a conversation, inbound or outbound; ``wa_message_id`` (Meta's wamid) is unique
    on the platform, which makes webhook processing exactly-once."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_order", "conversation_id", "ordered_at", "id"),)

    conversation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    direction: Mapped[Direction]
    sender_type: Mapped[SenderType]
    sender_user_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL")
    )
    type: Mapped[MessageType]
    text: Mapped[str | None] = mapped_column(Text)
    #: ``{mimeType, filename, sha256, size, storageKey, providerMediaId, state, caption, voice, animated}``
    media: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: what a type carries beyond text and media (location, shared contacts, order, reply ids, system)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[MessageStatus]
    wa_message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    provider_timestamp: Mapped[datetime | None]
    #: the position in the conversation: the provider's timestamp, else when it was created
    ordered_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: ``context`` of a reply or forward: ``{messageId, from, forwarded, frequentlyForwarded}``
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reply_to_wa_message_id: Mapped[str | None] = mapped_column(String(255))
    #: a reaction message points at its target; the target keeps the customer's current reaction
    reaction_to_wa_message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    reaction: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    referral: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pricing_category: Mapped[str | None] = mapped_column(String(32))
    status_at: Mapped[datetime | None]
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    is_hidden: Mapped[bool] = mapped_column(default=False)
    simulated: Mapped[bool] = mapped_column(default=False)


class MessageStatusEvent(TenantModel):
    """Every status Meta reports for a wamid, kept as received. ``message_id`` is empty while the
    message is not known yet (a status can overtake the send's response); ``applied_at`` marks the
    events already folded into the message's current status."""

    __tablename__ = "message_status_events"
    __table_args__ = (UniqueConstraint("wa_message_id", "status", "provider_timestamp"),)

    wa_message_id: Mapped[str] = mapped_column(String(255), index=True)
    message_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("messages.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    provider_timestamp: Mapped[datetime]
    recipient_id: Mapped[str | None] = mapped_column(String(128))
    errors: Mapped[list[Any] | None] = mapped_column(JSON)
    pricing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    conversation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    applied_at: Mapped[datetime | None]
