from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from cxinbox.core.validation import Id
from cxinbox.core.wire import ApiModel, RequestModel, examples
from cxinbox.models.templates import TemplateCategory

#: the most recipients one campaign (or one estimate) takes
MAX_RECIPIENTS = 100_000


class Recipient(RequestModel):
    phone: Annotated[str, Field(max_length=40, description="An international number, e.g. +5511999990000")]


class EstimateRequest(RequestModel):
    template_id: Id
    recipients: Annotated[list[Recipient], Field(min_length=1, max_length=MAX_RECIPIENTS)]


class InvalidRecipient(ApiModel):
    index: int
    phone: str


class CountryCost(ApiModel):
    country: str
    market: Annotated[str, Field(description="Addition: the rate card's market of the country")]
    count: int
    free: Annotated[
        int, Field(description="Addition: recipients inside their 24-hour window, whom Meta does not charge")
    ]
    rate: float
    cost: float


class Estimate(ApiModel):
    model_config = examples(
        {
            "total": 0.0136,
            "currency": "USD",
            "billable": 2,
            "byCountry": [
                {"country": "BR", "market": "Brazil", "count": 3, "free": 1, "rate": 0.0068, "cost": 0.0136}
            ],
            "category": "UTILITY",
            "effectiveDate": "2025-07-01",
            "invalid": [{"index": 3, "phone": "12"}],
        }
    )

    total: float
    currency: str
    billable: int
    by_country: list[CountryCost]
    category: Annotated[
        TemplateCategory, Field(description="Addition: the template's category, which sets the rates")
    ]
    effective_date: Annotated[date, Field(description="Addition: the rate card's effective date")]
    invalid: Annotated[list[InvalidRecipient], Field(description="Addition: numbers skipped as invalid")]


class MarketRates(ApiModel):
    market: str
    marketing: float
    utility: float
    authentication: float


class Pricing(ApiModel):
    model_config = examples(
        {
            "currency": "USD",
            "effectiveDate": "2025-07-01",
            "source": "Meta's per-message rate card",
            "markets": [
                {"market": "Brazil", "marketing": 0.0625, "utility": 0.0068, "authentication": 0.0068}
            ],
            "countries": {"55": {"country": "BR", "market": "Brazil"}},
        }
    )

    currency: str
    effective_date: date
    source: str
    markets: list[MarketRates]
    countries: Annotated[
        dict[str, dict[str, str]], Field(description="Calling-code prefix → `{country, market}`")
    ]
