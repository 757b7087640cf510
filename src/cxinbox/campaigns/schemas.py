from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from cxinbox.core.bulk import BulkSelection
from cxinbox.core.validation import Id
from cxinbox.core.wire import ApiModel, PageMeta, RequestModel, examples
from cxinbox.models.campaigns import CampaignStatus
from cxinbox.models.templates import TemplateCategory
from cxinbox.templates.schemas import TemplateVariables

#: the most recipients one campaign (or one estimate) takes
MAX_RECIPIENTS = 100_000


class Recipient(RequestModel):
    phone: Annotated[str, Field(max_length=40, description="An international number, e.g. +5511999990000")]
    name: Annotated[str | None, Field(max_length=200, description="Addition: the recipient's name")] = None
    variables: Annotated[
        TemplateVariables | None,
        Field(description="Addition: this recipient's values, in place of the campaign's `variables`"),
    ] = None


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
            "effectiveDate": "2026-01-01",
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
            "effectiveDate": "2026-01-01",
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


class CampaignCreate(RequestModel):
    model_config = examples(
        {
            "name": "November shipping notice",
            "templateId": "01a24ddb-6b0d-719d-a033-02bcfc055c30",
            "recipients": [
                {"phone": "+5511999990001", "name": "Ana", "variables": {"body": ["Ana", "A-1001"]}},
                {"phone": "+5511999990002"},
            ],
            "variables": {"body": ["customer", "your order"]},
            "scheduledAt": "2026-12-01T12:00:00Z",
            "budget": 25.0,
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=200)]
    template_id: Id
    recipients: Annotated[list[Recipient], Field(min_length=1, max_length=MAX_RECIPIENTS)]
    variables: Annotated[
        TemplateVariables | None,
        Field(description="Addition: the values every recipient shares (a recipient's own win)"),
    ] = None
    scheduled_at: Annotated[
        datetime | None, Field(description="Addition: start then instead of at once (UTC)")
    ] = None
    budget: Annotated[
        float | None,
        Field(
            gt=0,
            le=10_000_000,
            description="Addition: USD the campaign may spend by the rate card; it pauses with reason "
            "`BUDGET_REACHED` before a send would go over",
        ),
    ] = None


class Counts(ApiModel):
    total: int
    pending: int
    sent: int
    delivered: int
    read: int
    failed: int
    unknown: Annotated[
        int,
        Field(
            description="Addition: recipients whose send's outcome is unknown (the sending process "
            "died during Meta's call and no status webhook told what happened): never sent again "
            "automatically"
        ),
    ]
    replied: int


class CampaignOut(ApiModel):
    id: str
    name: str
    template_id: str | None
    whatsapp_account_id: str
    language: str
    variables: dict[str, object] | None
    status: CampaignStatus
    waiting_reason: Annotated[
        str | None,
        Field(
            description="Addition: why a campaign waits or stopped: `BUDGET_REACHED` (paused), "
            "`TIER_LIMIT` (the number's unique recipients per 24 h are used up), `THROTTLED` (Meta "
            "asked to slow down), `SCHEDULED`"
        ),
    ]
    scheduled_at: datetime | None
    counts: Counts
    estimated_cost: float
    budget: Annotated[float | None, Field(description="Addition: the spending cap, USD")]
    spent: Annotated[float, Field(description="Addition: USD charged so far by the rate card")]
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class CampaignCreated(CampaignOut):
    invalid: Annotated[
        list[InvalidRecipient], Field(description="Addition: numbers skipped as invalid, by index")
    ]
    duplicates: Annotated[int, Field(description="Addition: repeated numbers dropped (the first kept)")]


class RecipientOut(ApiModel):
    id: str
    phone: str
    name: str | None
    variables: dict[str, object] | None
    status: Annotated[
        str, Field(description="PENDING, SENT, DELIVERED, READ or FAILED; Addition: UNKNOWN (see `counts`)")
    ]
    cost: Annotated[
        float, Field(description="Addition: the rate card's price (0 where Meta charges nothing)")
    ]
    message_id: str | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    replied_at: datetime | None
    error_code: str | None
    error_message: str | None


class CampaignDetail(CampaignOut):
    recipients: Annotated[list[RecipientOut], Field(description="One page of recipients (see `meta`)")]


class CampaignDetailEnvelope(ApiModel):
    data: CampaignDetail
    meta: Annotated[PageMeta, Field(description="The page of `data.recipients`")]


class CampaignStats(ApiModel):
    counts: Counts
    delivery_rate: Annotated[float, Field(description="delivered (or read) / sent, 0..1")]
    read_rate: Annotated[float, Field(description="read / delivered, 0..1")]
    reply_rate: Annotated[float, Field(description="replied / delivered, 0..1")]
    estimated_cost: float
    spent: float


class GlobalStats(ApiModel):
    campaigns: int
    by_status: dict[str, int]
    counts: Counts
    delivery_rate: float
    read_rate: float
    reply_rate: float
    spent: float


class BulkCampaigns(RequestModel):
    model_config = examples({"action": "pause", "selection": {"mode": "ids", "ids": ["01a24ddb"]}})

    action: Literal["pause", "resume", "cancel", "delete"]
    selection: BulkSelection
    budget: Annotated[
        float | None,
        Field(gt=0, le=10_000_000, description="Addition: with `resume`, the campaign's new budget (USD)"),
    ] = None


class CampaignFilter(RequestModel):
    status: CampaignStatus | None = None


class CostLine(ApiModel):
    key: Annotated[str, Field(description="The pricing category (or country) Meta reports")]
    volume: int
    cost: float


class AccountCosts(ApiModel):
    whatsapp_account_id: str
    waba_id: str
    currency: str | None
    volume: int
    total: float
    by_category: list[CostLine]
    by_country: list[CostLine]
    error: Annotated[
        str | None, Field(description="Why Meta's figures for this account could not be read (then zeros)")
    ] = None


class TemplateCosts(ApiModel):
    template_id: str
    name: str
    language: str
    category: TemplateCategory
    sent: Annotated[int, Field(description="Campaign recipients this template reached in the period")]
    estimated_cost: Annotated[float, Field(description="Their price by the rate card, USD")]


class MetaCosts(ApiModel):
    since: date
    until: date
    currency: Annotated[str | None, Field(description="The accounts' currency as Meta reports it")]
    total: float
    accounts: list[AccountCosts]
    templates: Annotated[
        list[TemplateCosts],
        Field(
            description="Per template: what campaigns sent and its rate-card price. Meta's pricing "
            "analytics are per account, category and country, not per template."
        ),
    ]


class CampaignMetaCost(ApiModel):
    campaign_id: str
    since: date
    until: date
    currency: str | None
    category: Annotated[TemplateCategory | None, Field(description="Null when the template was deleted")]
    meta_cost: Annotated[
        float,
        Field(
            description="An approximation: what Meta charged the campaign's WhatsApp account for the "
            "template's category over the campaign's days (other sends of that category on those days "
            "count too)"
        ),
    ]
    meta_volume: int
    estimated_cost: float
    spent: float
