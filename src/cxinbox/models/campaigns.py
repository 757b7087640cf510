"""Campaigns: one approved template sent to many recipients, each recipient exactly once."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class CampaignStatus(enum.StrEnum):
    """``SCHEDULED → RUNNING → COMPLETED``, with PAUSED, CANCELLED and FAILED besides."""

    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


class RecipientStatus(enum.StrEnum):
    """Follows the message's status and only moves forward; ``SENDING`` is a claimed row whose send
    is being queued (the dispatcher's compare-and-set step, shown as PENDING)."""

    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"
    #: its send's outcome is unknown (the worker died during the Graph call and no status webhook
    #: told what happened): reported, never sent again automatically
    UNKNOWN = "UNKNOWN"


class Campaign(TenantModel):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_org_created", "organization_id", "created_at"),)

    name: Mapped[str] = mapped_column(String(200))
    template_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("message_templates.id", ondelete="SET NULL"), index=True
    )
    whatsapp_account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(32))
    #: the values every recipient shares (``{header?, body[], buttons[]}``), a recipient's own win
    variables: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[CampaignStatus] = mapped_column(default=CampaignStatus.SCHEDULED, index=True)
    #: why the campaign waits or stopped (``BUDGET_REACHED``, ``TIER_LIMIT``, ``THROTTLED`` …)
    status_reason: Mapped[str | None] = mapped_column(String(64))
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: USD, from the rate card when the campaign was created
    estimated_cost: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(0))
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    #: USD charged so far by the rate card (what the budget is compared with)
    spent: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(0))
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))


class CampaignRecipient(TenantModel):
    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone"),
        # the dispatcher claims PENDING rows of a campaign in order
        Index("ix_campaign_recipients_claim", "campaign_id", "status", "position"),
    )

    campaign_id: Mapped[str] = mapped_column(String(36), ForeignKey("campaigns.id", ondelete="CASCADE"))
    #: the campaign's organization, without a foreign key of its own: the campaign's covers it (an
    #: organization's deletion deletes its campaigns, theirs their recipients), and PostgreSQL checks
    #: a key row by row (migration 0234)
    organization_id: Mapped[str] = mapped_column(String(36), index=True)
    #: the order of the request (the dispatcher's order, and the export's)
    position: Mapped[int] = mapped_column(Integer)
    #: the normalised number: digits only, with the country code (WhatsApp's ``wa_id``)
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    variables: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[RecipientStatus] = mapped_column(default=RecipientStatus.PENDING)
    #: the rate card's price for this recipient (0 where Meta charges nothing)
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(0))
    message_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
