"""``/billing`` (ADMIN only), ``/admin/stripe/prices`` (SUPER_ADMIN only) and Stripe's webhook.

Without ``CXINBOX_STRIPE_SECRET_KEY`` and ``CXINBOX_STRIPE_WEBHOOK_SECRET`` every one of them
answers 503 ``BILLING_NOT_CONFIGURED`` (after the caller's credential and role are checked).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Request

from cxinbox.auth.dependencies import AdminDep, RuntimeDep, SessionDep, SuperAdminDep
from cxinbox.auth.scopes import NO_API_KEYS
from cxinbox.billing import catalog, previews, service, webhook
from cxinbox.billing.errors import (
    BillingNotConfigured,
    InvalidStripeSignature,
    NoBillingAccount,
    NoSubscription,
    PriceNotConfigured,
    StripeRefused,
    StripeUnavailable,
    SubscriptionExists,
)
from cxinbox.billing.schemas import (
    CancelPreview,
    CheckoutRequest,
    CheckoutSession,
    ExtraAgentsRequest,
    PlanChangePreview,
    PlanChangeRequest,
    PortalRequest,
    PortalSession,
    StripePrices,
    StripeWebhookReceived,
    Subscription,
)
from cxinbox.core.errors import AppError, ValidationFailed
from cxinbox.core.wire import Envelope

router = APIRouter(prefix="/billing", tags=["billing"], dependencies=[NO_API_KEYS])
admin_router = APIRouter(prefix="/admin/stripe", tags=["admin"], dependencies=[NO_API_KEYS])
webhook_router = APIRouter(prefix="/webhooks/stripe", tags=["webhooks"])

_STRIPE = (BillingNotConfigured, StripeUnavailable, StripeRefused)


@router.post(
    "/checkout-session",
    summary="Create Stripe Checkout session",
    description="Addition (body): `{plan, interval: month|year, successUrl?, cancelUrl?}` answers "
    "`{url, sessionId}`; the plan's price is the active Stripe price with lookup key "
    "`cxinbox_<plan>_<interval>`. The plan changes when Stripe's webhook confirms the payment. "
    "An organization with a subscription changes it in the portal (409 SUBSCRIPTION_EXISTS).",
    responses=AppError.responses(SubscriptionExists, PriceNotConfigured, *_STRIPE),
)
async def checkout_session(
    principal: AdminDep, runtime: RuntimeDep, session: SessionDep, body: CheckoutRequest
) -> Envelope[CheckoutSession]:
    return Envelope(
        data=await service.checkout(runtime, session, principal.tenant, principal.require_user(), body)
    )


@router.post(
    "/portal-session",
    summary="Create Stripe Customer Portal session",
    description="Addition (body, optional): `{returnUrl?}`; answers `{url}`.",
    responses=AppError.responses(NoBillingAccount, *_STRIPE),
)
async def portal_session(
    principal: AdminDep,
    runtime: RuntimeDep,
    session: SessionDep,
    body: Annotated[PortalRequest | None, Body()] = None,
) -> Envelope[PortalSession]:
    return_url = str(body.return_url) if body and body.return_url else None
    return Envelope(data=await service.portal(runtime, session, principal.tenant, return_url))


@router.post(
    "/extra-agents",
    summary="Add extra agent block to subscription",
    description="Addition (body, optional): `{quantity}` blocks (default 1, at most 100), each of "
    "the extra agent price's `block_size` seats (price metadata, default 5), billed with proration on "
    "the subscription (price lookup key `cxinbox_extra_agents_<interval>`). Answers the subscription; "
    "the seats count at once.",
    responses=AppError.responses(NoSubscription, PriceNotConfigured, *_STRIPE),
)
async def extra_agents(
    principal: AdminDep,
    runtime: RuntimeDep,
    session: SessionDep,
    body: Annotated[ExtraAgentsRequest | None, Body()] = None,
) -> Envelope[Subscription]:
    quantity = body.quantity if body else 1
    return Envelope(data=await service.add_extra_agents(runtime, session, principal.tenant, quantity))


@router.get(
    "/subscription",
    summary="Get subscription info",
    description="`{plan, status, interval, currentPeriodEnd, cancelAtPeriodEnd, extraAgentBlocks, "
    "seats}` as last confirmed by Stripe (status NONE without a subscription; PAST_DUE after a "
    "failed payment, while the plan stays).",
    responses=AppError.responses(*_STRIPE),
)
async def get_subscription(
    principal: AdminDep, runtime: RuntimeDep, session: SessionDep
) -> Envelope[Subscription]:
    return Envelope(data=await service.subscription(runtime, session, principal.tenant))


@router.post(
    "/preview-plan-change",
    summary="Preview a plan change (features gained/lost, proration)",
    description="Addition (body): `{plan, interval?}`. Every limit now and on the new plan against "
    "current usage, and Stripe's invoice preview of the change (`proration`, null without a "
    "subscription to change). What the new plan no longer allows follows `rule`.",
    responses=AppError.responses(PriceNotConfigured, *_STRIPE),
)
async def preview_plan_change(
    principal: AdminDep, runtime: RuntimeDep, session: SessionDep, body: PlanChangeRequest
) -> Envelope[PlanChangePreview]:
    return Envelope(data=await previews.plan_change(runtime, session, principal.tenant, body))


@router.get(
    "/cancel-preview",
    summary="Preview subscription cancellation (features that will be lost)",
    description="What the organization loses on FREE at the end of the paid period (`effectiveAt`).",
    responses=AppError.responses(NoSubscription, *_STRIPE),
)
async def cancel_preview(
    principal: AdminDep, runtime: RuntimeDep, session: SessionDep
) -> Envelope[CancelPreview]:
    return Envelope(data=await previews.cancellation(runtime, session, principal.tenant))


@router.post(
    "/cancel-subscription",
    summary="Cancel subscription at end of billing period",
    description="The plan lasts until `currentPeriodEnd`; then Stripe ends the subscription and the "
    "organization moves to FREE (never suspended). Answers the subscription (`cancelAtPeriodEnd`).",
    responses=AppError.responses(NoSubscription, *_STRIPE),
)
async def cancel_subscription(
    principal: AdminDep, runtime: RuntimeDep, session: SessionDep
) -> Envelope[Subscription]:
    return Envelope(data=await service.cancel(runtime, session, principal.tenant))


@admin_router.get(
    "/prices",
    summary="List Stripe prices grouped by product (for plan configuration)",
    description="Every active price by product, with the plan or extra agent block its lookup key "
    "sells, and each lookup key billing uses with its price (null: not configured yet).",
    responses=AppError.responses(*_STRIPE),
)
async def stripe_prices(_: SuperAdminDep, runtime: RuntimeDep) -> Envelope[StripePrices]:
    return Envelope(data=await catalog.stripe_prices(runtime))


@webhook_router.post(
    "",
    summary="Addition: receive Stripe events (signed with Stripe-Signature)",
    description="Addition. Stripe's webhook endpoint: the `Stripe-Signature` header is checked over "
    "the raw body (at most 300 s old), the event is stored under its Stripe id and acknowledged, then "
    "applied by a job: `checkout.session.completed`, `customer.subscription.*` and "
    "`invoice.payment_failed`. A redelivered event is acknowledged and not applied twice; an event "
    "older than the state applied changes nothing.",
    responses=AppError.responses(InvalidStripeSignature, ValidationFailed, BillingNotConfigured),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
        }
    },
)
async def receive(
    request: Request,
    runtime: RuntimeDep,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> Envelope[StripeWebhookReceived]:
    event_id, duplicate = await webhook.receive(runtime, await request.body(), stripe_signature)
    return Envelope(data=StripeWebhookReceived(id=event_id, duplicate=duplicate))
