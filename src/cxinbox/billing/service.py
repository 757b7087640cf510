"""Checkout, portal, extra agent blocks, cancellation and the subscription's state.

A transaction is never held open across a call to Stripe (``release_transaction``): what is read
before it is re-read, locked, after it. Stripe's answer to our own change is applied at once (so the
seats bought count now), without moving the account's Stripe time: the webhook of the change stays
the authority (``state.apply``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from stripe.params import CustomerCreateParams, SubscriptionUpdateParams, SubscriptionUpdateParamsItem

from cxinbox.billing import prices
from cxinbox.billing.errors import NoBillingAccount, NoSubscription, SubscriptionExists
from cxinbox.billing.prices import Interval
from cxinbox.billing.schemas import CheckoutRequest, CheckoutSession, PortalSession, Subscription
from cxinbox.billing.state import BillingAccounts, apply, has_live_subscription, snapshot_of
from cxinbox.billing.stripe_api import call, client_of, stripe_settings
from cxinbox.core.db import release_transaction
from cxinbox.core.errors import NotFound
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.billing import BillingAccount, SubscriptionStatus
from cxinbox.models.identity import Organization, User
from cxinbox.plans.limits import SEATS, limit_for
from cxinbox.runtime import Runtime


async def organization(
    session: AsyncSession, tenant: TenantContext, *, for_update: bool = False
) -> Organization:
    org = await session.get(
        Organization, tenant.organization_id, with_for_update=for_update, populate_existing=True
    )
    if org is None:
        raise NotFound("Organization not found")
    return org


def subscription_out(org: Organization, account: BillingAccount | None) -> Subscription:
    return Subscription(
        plan=org.plan,
        status=account.status if account else SubscriptionStatus.NONE,
        interval=Interval(account.interval) if account and account.interval else None,
        current_period_end=account.current_period_end if account else None,
        cancel_at_period_end=account.cancel_at_period_end if account else False,
        extra_agent_blocks=account.extra_agent_blocks if account else 0,
        seats=limit_for(org, SEATS),
        block_size=account.block_size if account else prices.DEFAULT_BLOCK_SIZE,
    )


async def subscription(runtime: Runtime, session: AsyncSession, tenant: TenantContext) -> Subscription:
    stripe_settings(runtime)
    account = await BillingAccounts(session, tenant).current()
    return subscription_out(await organization(session, tenant), account)


async def live_account(session: AsyncSession, tenant: TenantContext) -> BillingAccount:
    account = await BillingAccounts(session, tenant).current()
    if account is None or not has_live_subscription(account):
        raise NoSubscription()
    return account


async def _customer_id(runtime: Runtime, session: AsyncSession, tenant: TenantContext, user_id: str) -> str:
    """The organization's Stripe customer, created on its first checkout. Creation is idempotent by
    organization at Stripe, so two checkouts at once make one customer."""
    accounts = BillingAccounts(session, tenant)
    account = await accounts.current()
    if account is not None and account.stripe_customer_id:
        return account.stripe_customer_id
    org = await organization(session, tenant)
    user = await session.get(User, user_id)
    name, email = org.name, user.email if user else None
    await release_transaction(session)
    customer = await call(
        client_of(runtime).v1.customers.create_async(
            CustomerCreateParams(
                name=name, email=email or "", metadata={"organization_id": tenant.organization_id}
            ),
            {"idempotency_key": f"cxinbox-customer-{tenant.organization_id}"},
        )
    )
    account = await accounts.current_or_new()
    account.stripe_customer_id = account.stripe_customer_id or customer["id"]
    await session.flush()
    return account.stripe_customer_id


async def checkout(
    runtime: Runtime, session: AsyncSession, tenant: TenantContext, user_id: str, body: CheckoutRequest
) -> CheckoutSession:
    stripe_settings(runtime)
    if has_live_subscription(await BillingAccounts(session, tenant).current()):
        raise SubscriptionExists()
    price = await prices.price_for(runtime, prices.plan_key(body.plan, body.interval))
    customer = await _customer_id(runtime, session, tenant, user_id)
    await release_transaction(session)
    console = runtime.settings.public_url.rstrip("/")
    metadata = {"organization_id": tenant.organization_id}
    created = await call(
        client_of(runtime).v1.checkout.sessions.create_async(
            {
                "mode": "subscription",
                "customer": customer,
                "client_reference_id": tenant.organization_id,
                "line_items": [{"price": price["id"], "quantity": 1}],
                "success_url": str(body.success_url or f"{console}/?checkout=success"),
                "cancel_url": str(body.cancel_url or f"{console}/?checkout=cancelled"),
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
            }
        )
    )
    return CheckoutSession(url=created["url"], session_id=created["id"])


async def portal(
    runtime: Runtime, session: AsyncSession, tenant: TenantContext, return_url: str | None
) -> PortalSession:
    stripe_settings(runtime)
    account = await BillingAccounts(session, tenant).current()
    if account is None or not account.stripe_customer_id:
        raise NoBillingAccount()
    customer = account.stripe_customer_id
    await release_transaction(session)
    created = await call(
        client_of(runtime).v1.billing_portal.sessions.create_async(
            {"customer": customer, "return_url": return_url or f"{runtime.settings.public_url.rstrip('/')}/"}
        )
    )
    return PortalSession(url=created["url"])


async def retrieve_subscription(runtime: Runtime, subscription_id: str) -> dict[str, Any]:
    return await call(client_of(runtime).v1.subscriptions.retrieve_async(subscription_id))


async def _change(
    runtime: Runtime,
    session: AsyncSession,
    tenant: TenantContext,
    subscription_id: str,
    params: SubscriptionUpdateParams,
) -> Subscription:
    await release_transaction(session)
    changed = await call(client_of(runtime).v1.subscriptions.update_async(subscription_id, params))
    account = await BillingAccounts(session, tenant).current_or_new()
    org = await organization(session, tenant, for_update=True)
    apply(account, org, snapshot_of(changed), at=None)
    await session.flush()
    return subscription_out(org, account)


async def add_extra_agents(
    runtime: Runtime, session: AsyncSession, tenant: TenantContext, quantity: int
) -> Subscription:
    """Add ``quantity`` blocks of extra agent seats to the subscription (prorated by Stripe)."""
    stripe_settings(runtime)
    account = await live_account(session, tenant)
    subscription_id = account.stripe_subscription_id or ""
    await release_transaction(session)
    current = snapshot_of(await retrieve_subscription(runtime, subscription_id))
    interval = Interval(current.interval or Interval.MONTH)
    if current.extra_item_id:
        item: SubscriptionUpdateParamsItem = {
            "id": current.extra_item_id,
            "quantity": current.extra_agent_blocks + quantity,
        }
    else:
        price = await prices.price_for(runtime, prices.extra_agents_key(interval))
        item = {"price": price["id"], "quantity": quantity}
    return await _change(
        runtime,
        session,
        tenant,
        subscription_id,
        {"items": [item], "proration_behavior": "create_prorations"},
    )


async def cancel(runtime: Runtime, session: AsyncSession, tenant: TenantContext) -> Subscription:
    """Cancel at the end of the paid period: the plan lasts until then, then drops to FREE."""
    stripe_settings(runtime)
    account = await live_account(session, tenant)
    return await _change(
        runtime, session, tenant, account.stripe_subscription_id or "", {"cancel_at_period_end": True}
    )
