"""Wire models of the messages area; ``MessageOut`` is also the payload of the ``message.*`` events,
whichever channel the message went through."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cxinbox.core.bulk import MAX_BULK_IDS, BulkSelection
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples
from cxinbox.models.inbox import Direction, MessageStatus, MessageType, SenderType
from cxinbox.models.outbound import OutboxState

#: WhatsApp's limit for a text message body
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class SendMessage(RequestModel):
    model_config = examples({"type": "text", "text": "Hi Maria! It left our warehouse this morning."})
    type: Literal["text"] = Field(
        "text", description="Free-form messages are text; media goes to /conversations/{id}/messages/media"
    )
    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    reply_to_message_id: str | None = Field(
        default=None, max_length=36, description="A message of the same conversation to reply to"
    )
    preview_url: bool = Field(default=False, description="Let WhatsApp render a preview of the first URL")

    _text_not_blank = field_validator("text")(_not_blank)


class React(RequestModel):
    emoji: str = Field(max_length=16, description="The emoji; an empty string removes the reaction")


class MediaErrorOut(ApiModel):
    code: int | None = Field(description="Meta's error code, when Meta refused the download")
    message: str


class MediaOut(ApiModel):
    mime_type: str | None
    filename: str | None
    url: str | None = Field(description="Short-lived signed URL of the stored bytes, once downloaded")
    size: int | None
    sha256: str | None
    caption: str | None
    download_state: str = Field(
        description="PENDING while the download is tried; DOWNLOADED; FAILED (see lastError; "
        "retry-media tries again)"
    )
    last_error: MediaErrorOut | None = Field(description="Why the last download attempt failed")
    provider_media_id: str | None


class MessageOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24de1-0b93-71a8-8c0e-4d2b7f9a1e63",
            "conversationId": "01a24de1-0b80-7c11-b2d4-7f6a9e3c5a02",
            "direction": "INBOUND",
            "senderType": "CUSTOMER",
            "senderUserId": None,
            "type": "text",
            "text": "Hi, where is my order?",
            "media": None,
            "payload": None,
            "status": "RECEIVED",
            "waMessageId": "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDNBMEYxQjVGQjg2QzE2RTFBRUE1AA==",
            "timestamp": "2026-12-07T09:30:12Z",
            "context": None,
            "replyToWaMessageId": None,
            "reaction": None,
            "referral": None,
            "error": None,
            "pricingCategory": None,
            "editedAt": None,
            "deletedAt": None,
            "isHidden": False,
            "simulated": False,
            "createdAt": "2026-12-07T09:30:12.431870Z",
        },
    )
    id: str
    conversation_id: str
    direction: Direction
    sender_type: SenderType
    sender_user_id: str | None
    type: MessageType
    text: str | None
    media: MediaOut | None
    payload: dict[str, Any] | None
    status: MessageStatus
    wa_message_id: str | None
    timestamp: UtcDatetime = Field(description="When the message happened (the provider's timestamp)")
    context: dict[str, Any] | None
    reply_to_wa_message_id: str | None
    reaction: dict[str, Any] | None
    referral: dict[str, Any] | None
    error: dict[str, Any] | None
    pricing_category: str | None
    edited_at: UtcDatetime | None
    deleted_at: UtcDatetime | None
    is_hidden: bool
    simulated: bool
    created_at: UtcDatetime


class FailedMessageOut(MessageOut):
    """A message of the failed-messages queue, with its delivery record."""

    contact_name: str | None
    contact_phone: str | None
    whatsapp_account_id: str
    attempts: int
    next_attempt_at: UtcDatetime | None = Field(description="When the next automatic attempt runs")
    permanent: bool = Field(description="The last error will not pass on a plain retry")
    last_error: dict[str, object] | None
    template_name: str | None
    delivery_state: OutboxState = Field(
        description="QUEUED, SENDING, SENT, FAILED or DISCARDED; Addition: UNKNOWN (the send's outcome "
        "stayed unknown after a crash: not resent unless retried)"
    )


class ErrorCodeCount(ApiModel):
    code: int | None
    count: int


class FailedStats(ApiModel):
    failed: int = Field(description="FAILED and not discarded")
    pending: int = Field(description="Waiting for an automatic retry")
    permanent: int = Field(description="Failed with an error a retry will not get past")
    retryable: int = Field(description="Failed after the last automatic retry; a retry may pass")
    discarded: int
    last_24_hours: int = Field(description="Failed in the last 24 hours")
    by_error_code: list[ErrorCodeCount]


class BulkMessages(RequestModel):
    """Either ``messageIds``, or a ``selection`` in the shape every bulk endpoint shares (its
    ``filter`` takes the failed list's filters)."""

    message_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_BULK_IDS)
    selection: BulkSelection | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> BulkMessages:
        if (self.message_ids is None) == (self.selection is None):
            raise ValueError("give either messageIds or selection")
        return self
