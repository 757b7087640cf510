"""Plans tied to Stripe prices by lookup key: ``cxinbox_<plan>_<month|year>`` for a plan and
``cxinbox_extra_agents_<month|year>`` for a block of extra agent seats, whose size is the price's
metadata ``block_size`` (5 when it is missing or not a positive number). Nothing else maps a plan to
a price: creating the prices in Stripe with these keys is the whole configuration."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from stripe.params import PriceListParams

from cxinbox.billing.errors import PriceNotConfigured
from cxinbox.billing.stripe_api import call, client_of
from cxinbox.models.identity import Plan
from cxinbox.runtime import Runtime


class Interval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


PREFIX = "cxinbox_"
EXTRA_AGENTS = "extra_agents"
DEFAULT_BLOCK_SIZE = 5
#: the plans Stripe sells (FREE is what an organization has without a subscription)
PAID_PLANS = (Plan.STARTER, Plan.PROFESSIONAL, Plan.ENTERPRISE)
PAGE_SIZE = 100


def plan_key(plan: Plan, interval: Interval) -> str:
    return f"{PREFIX}{plan.value.lower()}_{interval.value}"


def extra_agents_key(interval: Interval) -> str:
    return f"{PREFIX}{EXTRA_AGENTS}_{interval.value}"


ALL_KEYS = tuple(
    key
    for interval in Interval
    for key in (*(plan_key(plan, interval) for plan in PAID_PLANS), extra_agents_key(interval))
)


@dataclass(frozen=True)
class PriceRole:
    """What a lookup key sells: a plan (``plan`` set) or extra agent blocks, per ``interval``."""

    plan: Plan | None
    interval: Interval


def role_of(lookup_key: str | None) -> PriceRole | None:
    for interval in Interval:
        if lookup_key == extra_agents_key(interval):
            return PriceRole(None, interval)
        for plan in PAID_PLANS:
            if lookup_key == plan_key(plan, interval):
                return PriceRole(plan, interval)
    return None


def block_size(price: dict[str, Any]) -> int:
    raw = (price.get("metadata") or {}).get("block_size")
    try:
        size = int(str(raw))
    except (TypeError, ValueError):
        return DEFAULT_BLOCK_SIZE
    return size if size > 0 else DEFAULT_BLOCK_SIZE


async def price_for(runtime: Runtime, lookup_key: str) -> dict[str, Any]:
    """The active price with ``lookup_key``, or 409 ``PRICE_NOT_CONFIGURED``."""
    found = await call(
        client_of(runtime).v1.prices.list_async({"lookup_keys": [lookup_key], "active": True, "limit": 1})
    )
    prices: list[dict[str, Any]] = found.get("data") or []
    if not prices:
        raise PriceNotConfigured(details={"lookupKey": lookup_key})
    return prices[0]


async def active_prices(runtime: Runtime) -> list[dict[str, Any]]:
    """Every active price, with its product, page after page."""
    prices: list[dict[str, Any]] = []
    params: PriceListParams = {"active": True, "limit": PAGE_SIZE, "expand": ["data.product"]}
    while True:
        page = await call(client_of(runtime).v1.prices.list_async(params))
        prices.extend(page.get("data") or [])
        if not page.get("has_more") or not prices:
            return prices
        params["starting_after"] = prices[-1]["id"]
