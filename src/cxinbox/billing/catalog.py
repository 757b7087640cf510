"""``/admin/stripe/prices``: Stripe's active prices grouped by product, and which lookup key billing
uses is tied to which price (the whole plan configuration)."""

from __future__ import annotations

from typing import Any

from cxinbox.billing import prices
from cxinbox.billing.schemas import LookupKey, StripePrice, StripePrices, StripeProduct
from cxinbox.runtime import Runtime


def _price_out(price: dict[str, Any]) -> StripePrice:
    role = prices.role_of(price.get("lookup_key"))
    recurring = price.get("recurring") or {}
    return StripePrice(
        id=price["id"],
        lookup_key=price.get("lookup_key"),
        nickname=price.get("nickname"),
        currency=price.get("currency") or "",
        unit_amount=price.get("unit_amount"),
        interval=recurring.get("interval"),
        active=bool(price.get("active")),
        plan=role.plan if role else None,
        block_size=prices.block_size(price) if role and role.plan is None else None,
    )


async def stripe_prices(runtime: Runtime) -> StripePrices:
    listed = await prices.active_prices(runtime)
    products: dict[str, StripeProduct] = {}
    for price in listed:
        product = price.get("product")
        product_id = str(product.get("id") if isinstance(product, dict) else product)
        name = product.get("name") if isinstance(product, dict) else None
        group = products.setdefault(product_id, StripeProduct(id=product_id, name=name, prices=[]))
        group.prices.append(_price_out(price))
    by_key = {price.get("lookup_key"): price["id"] for price in listed if price.get("lookup_key")}
    return StripePrices(
        products=list(products.values()),
        lookup_keys=[LookupKey(lookup_key=key, price_id=by_key.get(key)) for key in prices.ALL_KEYS],
    )
