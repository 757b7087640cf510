"""Wire models of billing. The reference documents no billing bodies: every body here is ours."""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, Field, field_validator

from cxinbox.billing.prices import Interval
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime
from cxinbox.models.billing import SubscriptionStatus
from cxinbox.models.identity import Plan
from cxinbox.plans.matrix import Change

RULE = (
    "Nothing is deleted when a limit goes down: people and WhatsApp numbers over the new limit stay "
    "and keep working, and new invitations, users and numbers are refused (402 PLAN_LIMIT_REACHED) "
    "until usage is back under the limit."
)


class CheckoutRequest(RequestModel):
    """Addition: the plan to buy (the reference documents no body)."""

    plan: Plan = Field(description="STARTER, PROFESSIONAL or ENTERPRISE")
    interval: Interval = Interval.MONTH
    success_url: AnyHttpUrl | None = Field(
        default=None, description="Where Stripe sends the buyer after paying (default: the console)"
    )
    cancel_url: AnyHttpUrl | None = Field(default=None, description="Where Stripe sends a buyer who gives up")

    @field_validator("plan")
    @classmethod
    def _paid(cls, plan: Plan) -> Plan:
        if plan == Plan.FREE:
            raise ValueError("FREE needs no checkout: cancel the subscription instead")
        return plan


class CheckoutSession(ApiModel):
    url: str
    session_id: str


class PortalRequest(RequestModel):
    """Addition: where the portal returns to (the reference documents no body)."""

    return_url: AnyHttpUrl | None = Field(default=None, description="Where the portal's back link goes")


class PortalSession(ApiModel):
    url: str


class ExtraAgentsRequest(RequestModel):
    """Addition: how many blocks to add (the reference documents no body)."""

    quantity: Annotated[
        int, Field(ge=1, le=100, description="Blocks to add (each adds `blockSize` seats)")
    ] = 1


class Subscription(ApiModel):
    plan: Plan = Field(description="The organization's plan now")
    status: SubscriptionStatus = Field(description="The Stripe subscription's status; NONE without one")
    interval: Interval | None
    current_period_end: UtcDatetime | None
    cancel_at_period_end: bool
    extra_agent_blocks: int
    seats: int | None = Field(description="Seat limit now, extra agent blocks included (null: unlimited)")
    block_size: int = Field(description="Addition: seats in one extra agent block")


class PlanChangeRequest(RequestModel):
    """Addition: the plan to preview (the reference documents no body)."""

    plan: Plan
    interval: Interval | None = Field(default=None, description="Default: the subscription's, else month")


class LimitChange(ApiModel):
    name: str
    current: int | None = Field(description="The limit now (null: unlimited)")
    new: int | None = Field(description="The limit after the change (null: unlimited)")
    used: int
    change: Change
    over_limit: int = Field(description="What the organization has beyond the new limit (kept, see `rule`)")


class ProrationLine(ApiModel):
    description: str | None
    amount: int = Field(description="In the currency's smallest unit")
    proration: bool
    period_start: UtcDatetime | None
    period_end: UtcDatetime | None


class Proration(ApiModel):
    """Stripe's preview of the next invoice with the change (``POST /v1/invoices/create_preview``)."""

    currency: str
    amount_due: int
    subtotal: int
    total: int
    lines: list[ProrationLine]


class PlanChangePreview(ApiModel):
    current_plan: Plan
    new_plan: Plan
    interval: Interval | None
    gained: list[str] = Field(description="Limits that go up")
    lost: list[str] = Field(description="Limits that go down")
    limits: list[LimitChange]
    proration: Proration | None = Field(description="null without a subscription to change, or to FREE")
    rule: str = RULE


class CancelPreview(ApiModel):
    current_plan: Plan
    new_plan: Plan = Plan.FREE
    effective_at: UtcDatetime | None = Field(description="The end of the paid period")
    lost: list[str]
    limits: list[LimitChange]
    rule: str = RULE


class StripePrice(ApiModel):
    id: str
    lookup_key: str | None
    nickname: str | None
    currency: str
    unit_amount: int | None
    interval: str | None
    active: bool
    plan: Plan | None = Field(description="The plan its lookup key sells, if any")
    block_size: int | None = Field(description="Seats per block, for extra agent prices")


class StripeProduct(ApiModel):
    id: str
    name: str | None
    prices: list[StripePrice]


class LookupKey(ApiModel):
    lookup_key: str
    price_id: str | None = Field(description="The active price with this key (null: not configured)")


class StripePrices(ApiModel):
    products: list[StripeProduct]
    lookup_keys: list[LookupKey] = Field(description="Every lookup key billing uses, and its price")


class StripeWebhookReceived(ApiModel):
    id: str
    received: bool = True
    duplicate: bool = Field(description="The event was received before (it is not applied twice)")
