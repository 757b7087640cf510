"""A Stripe subscription read into what billing keeps, and applied to the organization.

The rule for plans and seats: while the subscription is ACTIVE, TRIALING, PAST_DUE or UNPAID the
organization has the plan its prices name and the seats of its extra agent blocks; any other state
(deleted, never paid, expired, paused) is the FREE plan without extra seats. The organization is
never suspended by billing. Nothing is deleted when a limit goes down: people and numbers over the
new limit stay, and new invitations, users and numbers are refused (402 ``PLAN_LIMIT_REACHED``)
until usage is back under it.

Order: webhook events may arrive in any order. Each one carries Stripe's time of the state
(``created``), and a state older than the one applied changes nothing; a subscription that ended
never comes back, and the end of an old subscription does not end a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.billing.prices import DEFAULT_BLOCK_SIZE, block_size, role_of
from cxinbox.core.db import insert_new
from cxinbox.core.repository import TenantRepository
from cxinbox.models.billing import BillingAccount, SubscriptionStatus
from cxinbox.models.identity import Organization, Plan

#: the subscription pays for its plan in these states
GRANTING = frozenset(
    {
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.PAST_DUE,
        SubscriptionStatus.UNPAID,
    }
)
#: a subscription in these states is over for good
ENDED = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


class BillingAccounts(TenantRepository[BillingAccount]):
    model = BillingAccount

    async def current(self, *, for_update: bool = False) -> BillingAccount | None:
        stmt = self.select()
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def current_or_new(self) -> BillingAccount:
        """The account, locked; created first if there is none (two requests at once make one)."""
        account = await self.current(for_update=True)
        if account is None:
            await insert_new(
                self.session,
                BillingAccount,
                organization_id=self.tenant.organization_id,
                status=SubscriptionStatus.NONE,
                cancel_at_period_end=False,
                extra_agent_blocks=0,
                block_size=DEFAULT_BLOCK_SIZE,
            )
            account = await self.current(for_update=True)
        assert account is not None
        return account


async def account_of_customer(session: AsyncSession, customer_id: str) -> BillingAccount | None:
    """Cross-tenant: the account of a Stripe customer (a webhook names the customer, not the tenant)."""
    stmt = select(BillingAccount).where(BillingAccount.stripe_customer_id == customer_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def stripe_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(int(value), UTC)


def _id(value: Any) -> str | None:
    """An id field that may have been expanded into its object."""
    return value.get("id") if isinstance(value, dict) else value


@dataclass(frozen=True)
class Snapshot:
    subscription_id: str
    customer_id: str | None
    status: SubscriptionStatus
    plan: Plan | None
    interval: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    extra_agent_blocks: int
    block_size: int
    plan_item_id: str | None
    extra_item_id: str | None
    #: the organization our checkout put in the subscription's metadata
    organization_id: str | None

    @property
    def grants(self) -> bool:
        return self.status in GRANTING and self.plan is not None

    @property
    def extra_seats(self) -> int:
        return self.extra_agent_blocks * self.block_size if self.grants else 0


def snapshot_of(subscription: dict[str, Any]) -> Snapshot:
    """Read a Stripe subscription: its plan and extra agent blocks from its items' price lookup keys;
    its period end from its items (where Stripe keeps it since 2025-03-31.basil)."""
    plan = interval = plan_item = extra_item = None
    blocks, size = 0, DEFAULT_BLOCK_SIZE
    period_ends: list[int] = []
    for item in (subscription.get("items") or {}).get("data") or []:
        price = item.get("price") or {}
        role = role_of(price.get("lookup_key"))
        if item.get("current_period_end") is not None:
            period_ends.append(int(item["current_period_end"]))
        if role is None:
            continue
        if role.plan is not None:
            plan, interval, plan_item = role.plan, role.interval.value, item.get("id")
        else:
            blocks, size, extra_item = int(item.get("quantity") or 0), block_size(price), item.get("id")
    try:
        status = SubscriptionStatus(str(subscription.get("status", "")).upper())
    except ValueError:
        status = SubscriptionStatus.INCOMPLETE
    return Snapshot(
        subscription_id=subscription["id"],
        customer_id=_id(subscription.get("customer")),
        status=status,
        plan=plan,
        interval=interval,
        current_period_end=stripe_time(max(period_ends)) if period_ends else None,
        cancel_at_period_end=bool(subscription.get("cancel_at_period_end"))
        or subscription.get("cancel_at") is not None,
        extra_agent_blocks=blocks,
        block_size=size,
        plan_item_id=plan_item,
        extra_item_id=extra_item,
        organization_id=(subscription.get("metadata") or {}).get("organization_id"),
    )


def is_stale(account: BillingAccount, snapshot: Snapshot, at: datetime | None) -> bool:
    """Whether ``snapshot`` (Stripe's state at ``at``) is older than what ``account`` holds."""
    if at is not None and account.state_at is not None and at < account.state_at:
        return True
    if account.stripe_subscription_id == snapshot.subscription_id:
        return account.status in ENDED and snapshot.status not in ENDED
    newer_is_live = account.stripe_subscription_id is not None and account.status not in ENDED
    return newer_is_live and snapshot.status in ENDED


def apply(account: BillingAccount, org: Organization, snapshot: Snapshot, at: datetime | None) -> bool:
    """Make ``snapshot`` the account's state and the organization's plan and seats, unless it is
    stale. ``at`` is Stripe's time of the state (None for Stripe's answer to our own change, which
    the webhook of that change confirms): answers whether anything was applied."""
    if is_stale(account, snapshot, at):
        return False
    account.stripe_subscription_id = snapshot.subscription_id
    account.status = snapshot.status
    account.plan = snapshot.plan
    account.interval = snapshot.interval
    account.current_period_end = snapshot.current_period_end
    account.cancel_at_period_end = snapshot.cancel_at_period_end
    account.extra_agent_blocks = snapshot.extra_agent_blocks
    account.block_size = snapshot.block_size
    if at is not None:
        account.state_at = at
    org.plan = snapshot.plan if snapshot.grants and snapshot.plan else Plan.FREE
    org.extra_seats = snapshot.extra_seats
    return True


def has_live_subscription(account: BillingAccount | None) -> bool:
    return (
        account is not None
        and account.stripe_subscription_id is not None
        and account.status not in ENDED
        and account.status != SubscriptionStatus.NONE
    )
