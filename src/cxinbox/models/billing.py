"""Billing through Stripe: each organization's subscription as last applied, and Stripe's webhook
events, stored before they are applied."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.core.clock import utcnow
from cxinbox.models.base import Base, TenantModel
from cxinbox.models.identity import Plan


class SubscriptionStatus(enum.StrEnum):
    """Stripe's subscription statuses (upper case), and NONE before any subscription."""

    NONE = "NONE"
    INCOMPLETE = "INCOMPLETE"
    INCOMPLETE_EXPIRED = "INCOMPLETE_EXPIRED"
    TRIALING = "TRIALING"
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    CANCELED = "CANCELED"
    UNPAID = "UNPAID"
    PAUSED = "PAUSED"


class BillingAccount(TenantModel):
    """The organization's Stripe customer and its subscription as last applied.

    ``state_at`` is the Stripe time (an event's ``created``) of the state applied last: an event
    older than it changes nothing, so deliveries out of order never roll the subscription back.
    """

    __tablename__ = "billing_accounts"
    __table_args__ = (Index("uq_billing_accounts_organization_id", "organization_id", unique=True),)
    organization_id_indexed = False

    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[SubscriptionStatus] = mapped_column(default=SubscriptionStatus.NONE)
    #: the plan the subscription pays for (the organization's own ``plan`` follows it while it lasts)
    plan: Mapped[Plan | None]
    interval: Mapped[str | None] = mapped_column(String(8))
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    extra_agent_blocks: Mapped[int] = mapped_column(default=0)
    block_size: Mapped[int] = mapped_column(default=5)
    state_at: Mapped[datetime | None]


class StripeEvent(Base):
    """A Stripe webhook event exactly as posted, kept (under Stripe's own event id, so a redelivery
    is recognised) before it is acknowledged; ``processed_at`` stays empty until it was applied."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        Index(
            "ix_stripe_events_unprocessed",
            "received_at",
            sqlite_where=text("processed_at IS NULL"),
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Stripe's ``created`` of the event
    created: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(2000))
