"""Wire models of the simulator."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cxinbox.conversations.schemas import ConversationOut
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime
from cxinbox.messages.schemas import MessageOut

TemplateStatus = Literal[
    "APPROVED",
    "REJECTED",
    "PENDING",
    "PAUSED",
    "DISABLED",
    "FLAGGED",
    "IN_APPEAL",
    "REINSTATED",
    "PENDING_DELETION",
    "DELETED",
    "ARCHIVED",
    "LIMIT_EXCEEDED",
]


class SimulateConversation(RequestModel):
    whatsapp_account_id: str | None = Field(
        default=None, description="The number that receives it; the organization's first one by default"
    )
    phone: str | None = Field(
        default=None, pattern=r"^\+?\d{6,15}$", description="The customer's number; a new one by default"
    )
    name: str | None = Field(
        default=None,
        max_length=200,
        description="The customer's WhatsApp profile name; by default a sample name for a new number, "
        "and the profile name it has for a known one",
    )
    text: str | None = Field(default=None, min_length=1, max_length=4096)


class SimulateBatch(RequestModel):
    count: int = Field(default=5, ge=1, le=50, description="How many new customers write in (one webhook)")
    whatsapp_account_id: str | None = None
    text: str | None = Field(default=None, min_length=1, max_length=4096)


class SimulateMessage(RequestModel):
    conversation_id: str
    text: str | None = Field(default=None, min_length=1, max_length=4096)


class SimulateTemplateStatus(RequestModel):
    template_name: str = Field(min_length=1, max_length=512)
    event: TemplateStatus
    template_id: str | None = Field(default=None, max_length=64)
    language: str = Field(default="en_US", max_length=32)
    reason: str | None = Field(default=None, max_length=2000)
    whatsapp_account_id: str | None = None


class Simulated(ApiModel):
    webhook_event_id: str
    conversation: ConversationOut
    message: MessageOut


class SimulatedBatch(ApiModel):
    webhook_event_id: str
    conversations: list[ConversationOut]
    messages: list[MessageOut]


class TemplateEventOut(ApiModel):
    id: str
    webhook_event_id: str | None
    waba_id: str
    field: str
    event: str | None
    template_id: str | None
    template_name: str | None
    language: str | None
    reason: str | None
    simulated: bool
    created_at: UtcDatetime


class CleanupResult(ApiModel):
    conversations: int
    messages: int
    contacts: int
    template_events: int
