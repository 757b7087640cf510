"""Plan-change and cancellation previews: what the organization gains and loses comes from the plan
matrix (``plans.matrix``); what it pays, from Stripe's invoice preview of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from stripe.params import InvoiceCreatePreviewParamsSubscriptionDetailsItem

from cxinbox.billing import prices
from cxinbox.billing.prices import Interval
from cxinbox.billing.schemas import (
    CancelPreview,
    LimitChange,
    PlanChangePreview,
    PlanChangeRequest,
    Proration,
    ProrationLine,
)
from cxinbox.billing.service import live_account, organization, retrieve_subscription
from cxinbox.billing.state import BillingAccounts, has_live_subscription, snapshot_of, stripe_time
from cxinbox.billing.stripe_api import call, client_of, stripe_settings
from cxinbox.core.db import release_transaction
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.identity import Plan
from cxinbox.plans import matrix
from cxinbox.runtime import Runtime


def _limits(changes: list[matrix.LimitChange]) -> list[LimitChange]:
    return [
        LimitChange(
            name=c.name, current=c.current, new=c.new, used=c.used, change=c.change, over_limit=c.over_limit
        )
        for c in changes
    ]


def _named(changes: list[matrix.LimitChange], change: matrix.Change) -> list[str]:
    return [c.name for c in changes if c.change == change]


def proration_of(invoice: dict[str, Any]) -> Proration:
    lines = []
    for line in (invoice.get("lines") or {}).get("data") or []:
        period = line.get("period") or {}
        details = (line.get("parent") or {}).get("subscription_item_details") or {}
        lines.append(
            ProrationLine(
                description=line.get("description"),
                amount=int(line.get("amount") or 0),
                proration=bool(details.get("proration")),
                period_start=stripe_time(period.get("start")),
                period_end=stripe_time(period.get("end")),
            )
        )
    return Proration(
        currency=invoice.get("currency") or "",
        amount_due=int(invoice.get("amount_due") or 0),
        subtotal=int(invoice.get("subtotal") or 0),
        total=int(invoice.get("total") or 0),
        lines=lines,
    )


async def _proration(
    runtime: Runtime, customer_id: str, subscription_id: str, plan: Plan, interval: Interval
) -> Proration:
    """Stripe's next invoice if the subscription moved to ``plan`` per ``interval`` now (its extra
    agent blocks follow the interval, as Stripe bills every item of a subscription on one)."""
    current = snapshot_of(await retrieve_subscription(runtime, subscription_id))
    price = await prices.price_for(runtime, prices.plan_key(plan, interval))
    items: list[InvoiceCreatePreviewParamsSubscriptionDetailsItem] = [
        {"id": current.plan_item_id, "price": price["id"]} if current.plan_item_id else {"price": price["id"]}
    ]
    if current.extra_item_id and current.interval != interval.value:
        extra = await prices.price_for(runtime, prices.extra_agents_key(interval))
        items.append({"id": current.extra_item_id, "price": extra["id"]})
    invoice = await call(
        client_of(runtime).v1.invoices.create_preview_async(
            {
                "customer": customer_id,
                "subscription": subscription_id,
                "subscription_details": {"items": items, "proration_behavior": "create_prorations"},
            }
        )
    )
    return proration_of(invoice)


async def plan_change(
    runtime: Runtime, session: AsyncSession, tenant: TenantContext, body: PlanChangeRequest
) -> PlanChangePreview:
    stripe_settings(runtime)
    account = await BillingAccounts(session, tenant).current()
    org = await organization(session, tenant)
    live = has_live_subscription(account)
    interval = body.interval or (
        Interval(account.interval) if account and account.interval else Interval.MONTH
    )
    changes = await matrix.plan_change(
        session, org, body.plan, extra_seats=org.extra_seats if body.plan != Plan.FREE else 0
    )
    proration = None
    if live and account and body.plan != Plan.FREE and account.stripe_customer_id:
        customer, subscription_id = account.stripe_customer_id, account.stripe_subscription_id or ""
        await release_transaction(session)
        proration = await _proration(runtime, customer, subscription_id, body.plan, interval)
    return PlanChangePreview(
        current_plan=org.plan,
        new_plan=body.plan,
        interval=None if body.plan == Plan.FREE else interval,
        gained=_named(changes, matrix.Change.GAINED),
        lost=_named(changes, matrix.Change.LOST),
        limits=_limits(changes),
        proration=proration,
    )


async def cancellation(runtime: Runtime, session: AsyncSession, tenant: TenantContext) -> CancelPreview:
    stripe_settings(runtime)
    account = await live_account(session, tenant)
    org = await organization(session, tenant)
    changes = await matrix.plan_change(session, org, Plan.FREE, extra_seats=0)
    return CancelPreview(
        current_plan=org.plan,
        effective_at=account.current_period_end,
        lost=_named(changes, matrix.Change.LOST),
        limits=_limits(changes),
    )
