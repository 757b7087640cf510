"""Connected WhatsApp numbers, their alerts, the raw webhook events Meta sends, and the Meta app
configuration."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxinbox.core.clock import utcnow
from cxinbox.models.base import Base, IdMixin, TenantModel
from cxinbox.models.identity import User


class AccountStatus(enum.StrEnum):
    CONNECTED = "CONNECTED"
    #: Meta answered that the token is no longer valid; the account needs a new token
    TOKEN_INVALID = "TOKEN_INVALID"
    #: Meta disabled (banned) the number's WhatsApp Business Account: nothing can be sent until Meta
    #: reinstates it
    DISABLED = "DISABLED"
    #: the number's WhatsApp Business Account was deleted at Meta: nothing can be sent until the number
    #: is connected again
    DELETED = "DELETED"
    DISCONNECTED = "DISCONNECTED"


class WhatsAppAccount(TenantModel):
    """One WhatsApp Business phone number of an organization.

    A number belongs to one organization at a time: ``phone_number_id`` is unique among accounts that
    are not disconnected, so a number released by one organization can be connected by another while
    the old conversations keep pointing at the old (disconnected) row.
    """

    __tablename__ = "whatsapp_accounts"
    __table_args__ = (
        Index(
            "uq_whatsapp_accounts_live_phone_number_id",
            "phone_number_id",
            unique=True,
            sqlite_where=text("status != 'DISCONNECTED'"),
            postgresql_where=text("status != 'DISCONNECTED'"),
        ),
    )

    waba_id: Mapped[str] = mapped_column(String(64), index=True)
    phone_number_id: Mapped[str] = mapped_column(String(64), index=True)
    display_phone_number: Mapped[str | None] = mapped_column(String(64))
    verified_name: Mapped[str | None] = mapped_column(String(200))
    alias: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[AccountStatus] = mapped_column(default=AccountStatus.CONNECTED)
    #: the Graph API token, encrypted with ``runtime.secrets``; never returned
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    #: the app secret that signs this number's webhooks when it is not the platform's own app
    app_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    quality_rating: Mapped[str | None] = mapped_column(String(32))
    messaging_limit_tier: Mapped[str | None] = mapped_column(String(64))
    name_status: Mapped[str | None] = mapped_column(String(64))
    #: when Meta last reported each of the fields above that it reports (``status``,
    #: ``quality_rating``, ``messaging_limit_tier``, ``verified_name``, ``name_status``): field -> ISO
    #: 8601 UTC time. Its webhooks arrive in any order, so a report older than the one a field holds
    #: leaves it alone
    report_times: Mapped[dict[str, str] | None] = mapped_column(JSON)
    health_checked_at: Mapped[datetime | None]
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    disconnected_at: Mapped[datetime | None]

    @property
    def has_own_app_secret(self) -> bool:
        return self.app_secret_encrypted is not None


class AlertSeverity(enum.StrEnum):
    INFO = "INFO"
    #: action may be needed
    WARNING = "WARNING"
    #: sending is blocked or about to be (a rejected token, a disabled or restricted account)
    CRITICAL = "CRITICAL"


class AccountAlert(TenantModel):
    """Something about a number the organization should know: an ``account_update`` webhook, a quality
    or messaging-limit change, a display name decision, a token Meta rejected.

    ``source_key`` identifies what raised it (a hash of the webhook change, or the token Meta
    rejected): unique per organization, so a replayed webhook or a repeated failure raises nothing new.
    """

    __tablename__ = "whatsapp_account_alerts"
    __table_args__ = (
        UniqueConstraint("organization_id", "source_key"),
        Index("ix_whatsapp_account_alerts_feed", "organization_id", "created_at", "id"),
        Index("ix_whatsapp_account_alerts_unread", "organization_id", "acknowledged_at"),
    )

    whatsapp_account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[AlertSeverity]
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    #: what raised it, as received (the webhook change, or the Graph error)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_key: Mapped[str] = mapped_column(String(128))
    #: when it happened by Meta's clock (the webhook's ``entry.time``), else when it was seen
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL")
    )
    acknowledged_by: Mapped[User | None] = relationship(lazy="selectin")

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class MetaAppConfig(TenantModel):
    """An organization's Meta app settings for Embedded Signup (no secret is kept here)."""

    __tablename__ = "meta_app_configs"
    __table_args__ = (UniqueConstraint("organization_id"),)

    app_id: Mapped[str | None] = mapped_column(String(64))
    config_id: Mapped[str | None] = mapped_column(String(64))


class WebhookEvent(IdMixin, Base):
    """A webhook body exactly as Meta posted it, kept before it is acknowledged.

    ``processed_at`` stays empty until every entry, change, message and status in it was handled; the
    sweeper re-processes events left behind. ``organization_id`` is the organization it was routed
    to, empty while unrouted (an unknown number, or an event that names no number).
    """

    __tablename__ = "whatsapp_webhook_events"
    __table_args__ = (
        # the queue of events to process, oldest first: only unprocessed rows are in it, so it stays
        # as small as the backlog (an index over every event would grow with history, and each
        # "processed" update would leave a dead entry behind in it until vacuum)
        Index(
            "ix_whatsapp_webhook_events_unprocessed",
            "received_at",
            sqlite_where=text("processed_at IS NULL"),
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    phone_number_id: Mapped[str | None] = mapped_column(String(64), index=True)
    organization_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    #: the phone number ids whose signer signed the body (``whatsapp.signers``): processing changes
    #: nothing of another number. Empty for events stored before scopes were recorded: those are
    #: taken as signed by the platform's app (``inbound.scope``)
    signature_scope: Mapped[list[str] | None] = mapped_column(JSON)
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    #: built by the development simulator (``/dev/simulate/*``), not posted by Meta
    simulated: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class TemplateEvent(TenantModel):
    """A template webhook of one of the organization's business accounts, as Meta sent it:
    status (``message_template_status_update``), category or quality changes. Kept for the
    templates area, which folds them into its templates."""

    __tablename__ = "whatsapp_template_events"
    __table_args__ = (UniqueConstraint("organization_id", "webhook_event_id", "position"),)

    webhook_event_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("whatsapp_webhook_events.id", ondelete="SET NULL")
    )
    #: the change's place in its webhook body (entry and change index), so a replay stores it once
    position: Mapped[int] = mapped_column(Integer, default=0)
    waba_id: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    #: APPROVED, REJECTED, PAUSED … for status updates; the new category or quality score otherwise
    event: Mapped[str | None] = mapped_column(String(64))
    template_id: Mapped[str | None] = mapped_column(String(64), index=True)
    template_name: Mapped[str | None] = mapped_column(String(512), index=True)
    language: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    simulated: Mapped[bool] = mapped_column(default=False)
