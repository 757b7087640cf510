"""Contacts, conversations, messages and the delivery statuses Meta reports for them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxinbox.core.clock import utcnow
from cxinbox.models.base import Base, TenantModel
from cxinbox.models.identity import User
from cxinbox.models.tags import Tag


class ConversationStatus(enum.StrEnum):
    BOT_HANDLING = "BOT_HANDLING"
    HUMAN_HANDLING = "HUMAN_HANDLING"
    OPEN = "OPEN"
    WAITING_FOR_CUSTOMER = "WAITING_FOR_CUSTOMER"
    CLOSED = "CLOSED"


class ConversationOrigin(enum.StrEnum):
    """Who started the conversation: the customer, the business (a template or campaign), or the
    development simulator."""

    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"
    SIMULATED = "SIMULATED"


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


def _active_index(name: str, *columns: str, sqlite: str = "", postgresql: str = "") -> Index:
    """An index over the conversations that are not CLOSED (and match the extra condition)."""
    active = "status != 'CLOSED'"
    return Index(
        name,
        *columns,
        sqlite_where=text(f"{active} AND {sqlite}" if sqlite else active),
        postgresql_where=text(f"{active} AND {postgresql}" if postgresql else active),
    )


class Contact(TenantModel):
    """A customer, keyed by WhatsApp id within the organization; ``user_id`` is Meta's
    business-scoped user id, which a user with a username may have instead of a phone number.

    ``name`` is what everyone reads: the name a person gave the contact when ``name_edited``, else
    the WhatsApp profile name, which is kept in ``profile_name`` as each webhook reports it."""

    organization_id_indexed = False  # the unique (organization_id, wa_id) leads with it
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("organization_id", "wa_id"),
        Index("ix_contacts_org_created", "organization_id", "created_at", "id"),
    )

    wa_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    profile_name: Mapped[str | None] = mapped_column(String(200))
    #: a person set ``name``: webhooks no longer change it
    name_edited: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    user_id: Mapped[str | None] = mapped_column(String(128), index=True)
    username: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(64))


class Conversation(TenantModel):
    """The thread of one contact on one number. At most one conversation per contact and number is
    not CLOSED (a partial unique index), so concurrent first messages cannot open two."""

    organization_id_indexed = False  # ``ix_conversations_org_status_recent`` leads with it
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
        # the inbox lists (see bench/README.md): each serves one filter in one sort order, and the
        # active ones leave CLOSED conversations (most of them, over time) out of the index
        _active_index("ix_conversations_active_recent", "organization_id", "last_message_at", "id"),
        _active_index("ix_conversations_active_created", "organization_id", "created_at", "id"),
        _active_index("ix_conversations_active_waiting", "organization_id", "last_inbound_at", "id"),
        _active_index(
            "ix_conversations_needs_action_recent",
            "organization_id",
            "last_message_at",
            "id",
            sqlite="needs_action = 1",
            postgresql="needs_action",
        ),
        _active_index(
            "ix_conversations_unread_recent",
            "organization_id",
            "last_message_at",
            "id",
            sqlite="unread_count > 0",
            postgresql="unread_count > 0",
        ),
        _active_index("ix_conversations_assignee_recent", "assigned_to_id", "last_message_at", "id"),
        _active_index(
            "ix_conversations_team_queue_recent",
            "team_id",
            "last_message_at",
            "id",
            sqlite="assigned_to_id IS NULL",
            postgresql="assigned_to_id IS NULL",
        ),
        Index("ix_conversations_org_status_recent", "organization_id", "status", "last_message_at", "id"),
        Index("ix_conversations_org_category", "organization_id", "category"),
        Index("ix_conversations_contact_recent", "contact_id", "last_message_at", "id"),
    )

    contact_id: Mapped[str] = mapped_column(String(36), ForeignKey("contacts.id", ondelete="CASCADE"))
    whatsapp_account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ConversationStatus] = mapped_column(default=ConversationStatus.OPEN)
    origin: Mapped[ConversationOrigin] = mapped_column(
        default=ConversationOrigin.INBOUND, server_default=ConversationOrigin.INBOUND.value
    )
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
    #: a reminder to come back to the conversation: set when ``follow_up_set_at`` is
    follow_up_set_at: Mapped[datetime | None]
    follow_up_at: Mapped[datetime | None]
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    follow_up_by_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL")
    )

    contact: Mapped[Contact] = relationship(lazy="selectin")
    assigned_to: Mapped[User | None] = relationship(lazy="selectin", foreign_keys=[assigned_to_id])
    #: read-only here: tags are linked and unlinked with statements on ``conversation_tags``
    tags: Mapped[list[Tag]] = relationship(
        secondary="conversation_tags", lazy="selectin", viewonly=True, order_by="Tag.name"
    )

    @property
    def follow_up(self) -> dict[str, Any] | None:
        """The follow-up reminder, when one is set."""
        if self.follow_up_set_at is None:
            return None
        return {
            "note": self.follow_up_note,
            "due_at": self.follow_up_at,
            "set_by_id": self.follow_up_by_id,
            "set_at": self.follow_up_set_at,
        }


class ConversationCount(Base):
    """How many conversations of an organization are in one group (status, assignee, team,
    category, origin; ``''`` stands for none), and how many of those are unread or need action.

    Database triggers on ``conversations`` append every change of a conversation's group or flags to
    ``conversation_count_changes`` (revision 0106); a periodic job folds those into these rows. A
    count is these rows plus the changes not folded yet, read in one statement: exact at every
    moment, whichever code changed the conversation, at a cost that follows the number of groups
    rather than of conversations. Written only by the fold (no ORM writes).
    """

    __tablename__ = "conversation_counts"

    organization_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    assignee: Mapped[str] = mapped_column(String(36), primary_key=True)
    team: Mapped[str] = mapped_column(String(36), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    origin: Mapped[str] = mapped_column(String(32), primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger)
    unread: Mapped[int] = mapped_column(BigInteger)
    needs_action: Mapped[int] = mapped_column(BigInteger)


class ConversationCountChange(Base):
    """One pending change of a ``ConversationCount`` group (+1/-1 per counter), appended by the
    triggers. No foreign key: a deleted organization's conversations still leave their changes
    behind, which the fold drops."""

    __tablename__ = "conversation_count_changes"
    __table_args__ = (Index("ix_conversation_count_changes_organization", "organization_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    organization_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(32))
    assignee: Mapped[str] = mapped_column(String(36))
    team: Mapped[str] = mapped_column(String(36))
    category: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(32))
    total: Mapped[int] = mapped_column(Integer)
    unread: Mapped[int] = mapped_column(Integer)
    needs_action: Mapped[int] = mapped_column(Integer)


class TimelineKind(enum.StrEnum):
    STATUS = "STATUS"
    ASSIGNEE = "ASSIGNEE"
    TEAM = "TEAM"
    #: a tool an agent ran: ``to_value`` is its name
    TOOL = "TOOL"


class ActorType(enum.StrEnum):
    USER = "USER"
    API_KEY = "API_KEY"
    CUSTOMER = "CUSTOMER"
    SYSTEM = "SYSTEM"


class ConversationTimelineEntry(TenantModel):
    """One move of a conversation: its status, assignee or team went from one value to another,
    made by someone (or by the customer's message, or by the system) for a reason."""

    __tablename__ = "conversation_timeline"
    __table_args__ = (Index("ix_conversation_timeline_conversation", "conversation_id", "created_at"),)

    conversation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    kind: Mapped[TimelineKind]
    from_value: Mapped[str | None] = mapped_column(String(64))
    to_value: Mapped[str | None] = mapped_column(String(64))
    actor_type: Mapped[ActorType]
    #: the user or API key that made the move
    actor_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(32))


class Message(TenantModel):
    """One message of a conversation, inbound or outbound; ``wa_message_id`` (Meta's wamid) is unique
    on the platform, which makes webhook processing exactly-once."""

    organization_id_indexed = False  # ``ix_messages_org_recent`` leads with it
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_order", "conversation_id", "ordered_at", "id"),
        # an organization's messages newest first: text search walks it for common terms
        Index("ix_messages_org_recent", "organization_id", "ordered_at", "id"),
    )

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
