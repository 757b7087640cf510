"""Applying stored Stripe events, and the sweeper that finds those left behind (a lost job, a crash
between storing and applying, Stripe unreachable while a checkout's subscription was fetched).

An event is applied once: its row is locked and marked processed in the transaction that applies
it. Which events do what:

- ``checkout.session.completed``: the session's subscription (fetched from Stripe) is applied;
- ``customer.subscription.*``: the subscription in the event is applied (``state.apply``: plan,
  seats, status; deleted drops to FREE, never suspends);
- ``invoice.payment_failed``: the subscription shows PAST_DUE and the organization's admins are
  emailed; the plan changes only when Stripe then cancels or deletes the subscription.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.billing import notices
from cxinbox.billing.service import retrieve_subscription
from cxinbox.billing.state import ENDED, BillingAccounts, account_of_customer, apply, snapshot_of
from cxinbox.core.clock import utcnow
from cxinbox.core.db import release_transaction, rollback
from cxinbox.core.jobs import Queue, enqueue, job
from cxinbox.core.scheduler import periodic
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.billing import BillingAccount, StripeEvent, SubscriptionStatus
from cxinbox.models.identity import Organization
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)

#: an event still unapplied this long after it arrived was left behind
SWEEP_GRACE = timedelta(seconds=60)
#: after this many failed attempts an event waits for an operator (its ``error`` says why)
MAX_EVENT_ATTEMPTS = 20
SWEEP_BATCH = 200


def _id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


@job("billing.process_stripe_event", queue=Queue.DEFAULT, attempts=5, backoff_seconds=2.0)
async def process_stripe_event(runtime: Runtime, session: AsyncSession, event_id: str) -> None:
    try:
        await _process(runtime, session, event_id)
    except Exception as exc:
        await rollback(session)
        await _record_failure(runtime, event_id, exc)
        raise


async def _process(runtime: Runtime, session: AsyncSession, event_id: str) -> None:
    event = await session.get(StripeEvent, event_id)
    if event is None or event.processed_at is not None:
        return
    payload = event.payload
    fetched = None
    if payload["type"] == "checkout.session.completed":
        subscription_id = _id((payload["data"].get("object") or {}).get("subscription"))
        if subscription_id:
            await release_transaction(session)  # no transaction waits on Stripe
            fetched = await retrieve_subscription(runtime, subscription_id)
    event = await session.get(StripeEvent, event_id, with_for_update=True, populate_existing=True)
    if event is None or event.processed_at is not None:
        return
    await _apply_event(runtime, session, payload, event.created, fetched)
    event.processed_at = utcnow()
    event.error = None


async def _apply_event(
    runtime: Runtime,
    session: AsyncSession,
    payload: dict[str, Any],
    at: datetime,
    fetched: dict[str, Any] | None,
) -> None:
    kind: str = payload["type"]
    obj: dict[str, Any] = payload["data"].get("object") or {}
    if kind == "checkout.session.completed" and fetched is not None:
        await _apply_subscription(session, fetched, at, organization_hint=obj.get("client_reference_id"))
    elif kind.startswith("customer.subscription."):
        await _apply_subscription(session, obj, at)
    elif kind == "invoice.payment_failed":
        await _payment_failed(runtime, session, obj, at)


async def _account_for(
    session: AsyncSession, customer_id: str | None, organization_id: str | None
) -> BillingAccount | None:
    """The account of the event's customer; for a customer not yet linked, the organization our
    checkout named in the subscription's metadata (never one already linked to another customer)."""
    if customer_id is None:
        return None
    account = await account_of_customer(session, customer_id)
    if account is not None or organization_id is None:
        return account
    if await session.get(Organization, organization_id) is None:
        return None
    account = await BillingAccounts(session, TenantContext.system(organization_id)).current_or_new()
    if account.stripe_customer_id not in (None, customer_id):
        return None
    account.stripe_customer_id = customer_id
    return account


async def _apply_subscription(
    session: AsyncSession, subscription: dict[str, Any], at: datetime, *, organization_hint: str | None = None
) -> None:
    snapshot = snapshot_of(subscription)
    account = await _account_for(session, snapshot.customer_id, snapshot.organization_id or organization_hint)
    if account is None:
        log.info("stripe_event_of_unknown_customer", subscription=snapshot.subscription_id)
        return
    org = await session.get(
        Organization, account.organization_id, with_for_update=True, populate_existing=True
    )
    if org is not None and not apply(account, org, snapshot, at):
        log.info("stripe_event_stale", subscription=snapshot.subscription_id, organization=org.id)


async def _payment_failed(
    runtime: Runtime, session: AsyncSession, invoice: dict[str, Any], at: datetime
) -> None:
    account = await _account_for(session, _id(invoice.get("customer")), None)
    if account is None:
        return
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription_id = _id(details.get("subscription")) or _id(invoice.get("subscription"))
    fresh = account.state_at is None or at >= account.state_at
    if subscription_id == account.stripe_subscription_id and account.status not in ENDED and fresh:
        account.status = SubscriptionStatus.PAST_DUE
        account.state_at = at
    await notices.payment_failed(session, runtime, account.organization_id, invoice)


async def _record_failure(runtime: Runtime, event_id: str, exc: Exception) -> None:
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(StripeEvent)
            .where(StripeEvent.id == event_id)
            .values(attempts=StripeEvent.attempts + 1, error=f"{type(exc).__name__}: {exc}"[:2000])
        )


@periodic(every_seconds=30)
@job("billing.sweep_stripe_events", attempts=1)
async def sweep_stripe_events(runtime: Runtime, session: AsyncSession) -> None:
    left_behind = list(
        await session.scalars(
            select(StripeEvent.id)
            .where(
                StripeEvent.processed_at.is_(None),
                StripeEvent.received_at < utcnow() - SWEEP_GRACE,
                StripeEvent.attempts < MAX_EVENT_ATTEMPTS,
            )
            .order_by(StripeEvent.received_at)
            .limit(SWEEP_BATCH)
        )
    )
    for event_id in left_behind:
        enqueue(session, process_stripe_event, event_id=event_id)
    if left_behind:
        log.info("stripe_events_swept", count=len(left_behind))
