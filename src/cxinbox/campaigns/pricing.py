"""The rate card: what Meta charges per delivered template, by market and category.

Shipped as ``rate_card.json`` (list rates, in USD, with the date they took effect); the
``rate_card_path`` setting points at another file of the same shape (a newer card, a negotiated
one). A phone number's country comes from its longest known calling-code prefix, and the country's
market from the card; numbers of a country the card does not name are priced at its other market.

Since 1 July 2025 Meta charges per delivered marketing and authentication template, and per utility
template sent outside the customer-service window: a utility template to a customer who wrote in the
last 24 hours is free. Volume tiers are not applied, so an estimate errs on the high side.
Partners report that Meta announced charges inside the window from 1 October 2026 (service messages,
and by some accounts utility templates); Meta's own page was not found to confirm it, so the rule
above stands until it is: a card file cannot change it.
"""

from __future__ import annotations

import json
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cxinbox.core.errors import ServiceUnavailable
from cxinbox.models.templates import TemplateCategory

SHIPPED = "rate_card.json"


@dataclass(frozen=True, slots=True)
class Market:
    country: str
    market: str


@dataclass(frozen=True, slots=True)
class RateCard:
    currency: str
    effective_date: date
    source: str
    #: market → category → price per delivered template
    rates: dict[str, dict[TemplateCategory, Decimal]]
    #: calling-code prefix → country and market
    prefixes: dict[str, Market]
    other_market: str

    def market_of(self, wa_id: str) -> Market:
        """The country and market of a normalised number (digits with the country code)."""
        for length in (3, 2, 1):
            found = self.prefixes.get(wa_id[:length])
            if found is not None:
                return found
        return Market(country="OTHER", market=self.other_market)

    def markets_of(self, wa_ids: Sequence[str]) -> list[Market]:
        """``market_of`` of each number, looked up once per three-digit prefix (all it depends on:
        a campaign's 100,000 numbers share a few)."""
        known: dict[str, Market] = {}
        found = []
        for wa_id in wa_ids:
            head = wa_id[:3]
            market = known.get(head)
            if market is None:
                market = known[head] = self.market_of(head)
            found.append(market)
        return found

    def prices(
        self, category: TemplateCategory, wa_ids: Sequence[str], free: Container[str]
    ) -> list[Decimal]:
        """Each number's price for a template of ``category``: its market's rate, or nothing for
        the numbers of ``free`` (inside their window) where Meta does not charge them."""
        zero = Decimal(0)
        inside_free = not self.chargeable(category, window_open=True)
        return [
            zero if inside_free and wa_id in free else self.rates[market.market][category]
            for wa_id, market in zip(wa_ids, self.markets_of(wa_ids), strict=True)
        ]

    def rate(self, market: str, category: TemplateCategory) -> Decimal:
        return self.rates[market][category]

    def chargeable(self, category: TemplateCategory, window_open: bool) -> bool:
        """Meta charges a utility template only outside the customer-service window; marketing and
        authentication templates always."""
        return not (category is TemplateCategory.UTILITY and window_open)


def rate_card(path: Path | None) -> RateCard:
    """The card at ``path`` (the setting), else the shipped one; read once per file."""
    return _load(str(path) if path else None)


@cache
def _load(path: str | None) -> RateCard:
    try:
        if path is None:
            text = resources.files(__package__).joinpath(SHIPPED).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return _parse(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ServiceUnavailable(
            "The rate card cannot be read; check the rate_card_path setting", code="RATE_CARD_UNAVAILABLE"
        ) from exc


def _parse(raw: dict[str, Any]) -> RateCard:
    rates = {
        market: {TemplateCategory(category): Decimal(str(price)) for category, price in prices.items()}
        for market, prices in raw["markets"].items()
    }
    prefixes = {
        prefix: Market(country=str(entry["country"]), market=str(entry["market"]))
        for prefix, entry in raw["countries"].items()
    }
    other = str(raw["otherMarket"])
    for market in {other, *(m.market for m in prefixes.values())}:
        if set(rates.get(market, {})) != set(TemplateCategory):
            raise ValueError(f"market {market!r} lacks a rate of some category")
    return RateCard(
        currency=str(raw["currency"]),
        effective_date=date.fromisoformat(str(raw["effectiveDate"])),
        source=str(raw.get("source", "")),
        rates=rates,
        prefixes=prefixes,
        other_market=other,
    )
