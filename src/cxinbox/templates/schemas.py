from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from cxinbox.core.bulk import BulkSelection
from cxinbox.core.validation import Id
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples
from cxinbox.models.templates import QualityScore, TemplateCategory, TemplateStatus

TemplateName = Annotated[
    str,
    Field(pattern=r"^[a-z0-9_]{1,512}$", description="Meta's rule: lower-case letters, digits and `_`"),
]
Language = Annotated[
    str,
    Field(
        pattern=r"^[a-z]{2,3}(_[A-Z]{2}|_[A-Za-z]{4})?$",
        description="Meta's language code, e.g. `en_US`, `pt_BR`, `es`",
    ),
]
Components = Annotated[
    list[dict[str, Any]],
    Field(min_length=1, max_length=10, description="Meta's component format: HEADER, BODY, FOOTER, BUTTONS"),
]
AccountId = Annotated[
    Id | None,
    Field(description="The WhatsApp account (its business account); defaults to the organization's only one"),
]

_EXAMPLE_COMPONENTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Your order"},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} has shipped.",
        "example": {"body_text": [["Ana", "A-1001"]]},
    },
    {"type": "FOOTER", "text": "Reply STOP to opt out"},
]


class TemplateOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24ddb-6b0d-719d-a033-02bcfc055c30",
            "name": "order_shipped",
            "language": "en_US",
            "category": "UTILITY",
            "components": _EXAMPLE_COMPONENTS,
            "status": "APPROVED",
            "metaStatus": "APPROVED",
            "qualityScore": "GREEN",
            "rejectedReason": None,
            "metaTemplateId": "1689556908129832",
            "whatsappAccountId": "01a24dda-3f64-7b6e-a01c-8d0461196f48",
            "lastSyncedAt": None,
            "createdAt": "2026-12-07T09:15:55.150014Z",
            "updatedAt": "2026-12-07T09:15:55.150022Z",
        }
    )
    id: str
    name: str
    language: str
    category: TemplateCategory
    components: list[dict[str, Any]]
    status: TemplateStatus
    meta_status: str | None = Field(description="The status exactly as Meta last gave it")
    quality_score: QualityScore
    rejected_reason: str | None
    meta_template_id: str | None
    whatsapp_account_id: str
    last_synced_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class DraftTemplate(RequestModel):
    """A draft is kept as written (its components are checked when it is submitted)."""

    model_config = examples(
        {"name": "order_shipped", "category": "UTILITY", "components": _EXAMPLE_COMPONENTS}
    )
    name: TemplateName
    category: TemplateCategory
    components: Components
    language: Language = "en_US"
    whatsapp_account_id: AccountId = None


class CreateTemplate(DraftTemplate):
    """Checked, then submitted to Meta at once."""


class EditTemplate(RequestModel):
    model_config = examples({"components": _EXAMPLE_COMPONENTS})
    components: Components
    category: TemplateCategory | None = Field(
        default=None, description="Meta lets only a REJECTED or PAUSED template change category"
    )


class TemplateVariables(RequestModel):
    header: str | None = Field(default=None, max_length=4096, description="The text header's value")
    body: list[Annotated[str, Field(max_length=4096)]] = Field(default_factory=list, max_length=100)
    buttons: list[Annotated[str, Field(max_length=4096)]] = Field(
        default_factory=list, max_length=10, description="One value per URL button with a variable, in order"
    )


class SendTemplate(RequestModel):
    model_config = examples({"conversationId": "01a24ddb-6b0d-719d-a033-02bcfc055c30"})
    conversation_id: Id
    language: Language | None = None
    variables: TemplateVariables = Field(default_factory=TemplateVariables)


class SendTemplateToPhone(RequestModel):
    model_config = examples({"phone": "+5511999990000"})
    phone: str = Field(min_length=5, max_length=32, description="International format, e.g. `+5511999990000`")
    whatsapp_account_id: AccountId = None
    language: Language | None = None
    variables: TemplateVariables = Field(default_factory=TemplateVariables)


class SyncTemplates(RequestModel):
    whatsapp_account_id: AccountId = None


class SyncResult(ApiModel):
    created: int
    updated: int
    removed: int


class UploadedMedia(ApiModel):
    handle: str = Field(description="Meta's file handle: put it in a media header's `example.header_handle`")
    media_id: str = Field(description="The id `GET /templates/{id}/header-media` serves the file under")
    url: str = Field(description="The public URL of the file (what a send's media header links to)")


class TemplateFilter(RequestModel):
    """The list's query, and a bulk selection's ``filter``."""

    status: Literal["all"] | TemplateStatus | None = None
    category: TemplateCategory | None = None
    search: str | None = Field(default=None, max_length=200)
    whatsapp_account_id: Id | None = None


class BulkTemplates(RequestModel):
    action: Literal["delete"]
    selection: BulkSelection
