"""Wire models of the channel: accounts, and the contacts, conversations and messages it creates
(the inbox area serves the latter; events carry the same dumps)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples, examples_of
from cxinbox.files.service import file_url
from cxinbox.models.inbox import (
    ConversationOrigin,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    MessageType,
    SenderType,
)
from cxinbox.models.whatsapp import AccountStatus
from cxinbox.runtime import Runtime
from cxinbox.tags.schemas import TagOut

# --- accounts --------------------------------------------------------------------------------------


AccountState = Annotated[
    AccountStatus,
    Field(
        description="CONNECTED; TOKEN_INVALID: Meta refuses the access token (set a new one); DISABLED: "
        "Meta banned the WhatsApp Business Account, nothing is sent until Meta reinstates it; DELETED: "
        "the WhatsApp Business Account was deleted at Meta, nothing is sent until the number is "
        "connected again"
    ),
]


#: Meta's access tokens are visible ASCII; the token is sent in an HTTP header, where nothing else fits
AccessToken = Annotated[str, Field(min_length=1, max_length=4096, pattern=r"^[\x21-\x7e]+$")]


class WhatsAppAccountOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24de0-11c2-7d45-8b7e-5e0a7f3c9d21",
            "wabaId": "102290129340398",
            "phoneNumberId": "106540352242922",
            "displayPhoneNumber": "+1 555-010-0123",
            "verifiedName": "Acme",
            "alias": "Sales",
            "status": "CONNECTED",
            "qualityRating": "GREEN",
            "messagingLimitTier": "TIER_1K",
            "nameStatus": "APPROVED",
            "hasOwnAppSecret": False,
            "connectedAt": "2026-12-07T09:20:41.500812Z",
            "createdAt": "2026-12-07T09:20:41.500812Z",
        }
    )
    id: str
    waba_id: str
    phone_number_id: str
    display_phone_number: str | None
    verified_name: str | None
    alias: str | None
    status: AccountState
    quality_rating: str | None
    messaging_limit_tier: str | None
    name_status: str | None
    has_own_app_secret: bool = Field(description="The number's webhooks are signed with its own app secret")
    connected_at: UtcDatetime
    created_at: UtcDatetime


class ConnectManual(RequestModel):
    model_config = examples(
        {
            "wabaId": "102290129340398",
            "phoneNumberId": "106540352242922",
            "accessToken": "EAAGm0PX4ZCpsBO1ZBZAqZC7m5ZBg0yNhYZBZC3ZAv9",
            "alias": "Sales",
        }
    )
    waba_id: str = Field(min_length=1, max_length=64, pattern=r"^\d+$")
    phone_number_id: str = Field(min_length=1, max_length=64, pattern=r"^\d+$")
    access_token: AccessToken
    app_secret: str | None = Field(default=None, min_length=1, max_length=256)
    display_phone_number: str | None = Field(default=None, max_length=64)
    alias: str | None = Field(default=None, max_length=120)


class ConnectEmbedded(RequestModel):
    code: str = Field(min_length=1, max_length=2048)
    waba_id: str | None = Field(default=None, max_length=64, pattern=r"^\d+$")
    phone_number_id: str | None = Field(default=None, max_length=64, pattern=r"^\d+$")
    pin: str | None = Field(default=None, pattern=r"^\d{6}$", description="Two-step verification PIN")
    alias: str | None = Field(default=None, max_length=120)


class UpdateAccount(RequestModel):
    alias: str | None = Field(default=None, max_length=120)
    access_token: AccessToken | None = None
    app_secret: str | None = Field(default=None, min_length=1, max_length=256)


class AccountHealth(ApiModel):
    id: str
    status: AccountState
    healthy: bool
    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None
    messaging_limit_tier: str | None = None
    throughput: str | None = None
    name_status: str | None = None
    error: dict[str, Any] | None = None
    checked_at: UtcDatetime


class MetaConfigOut(ApiModel):
    app_id: str | None
    config_id: str | None
    graph_version: str
    webhook_verify_configured: bool


class MetaConfigIn(RequestModel):
    app_id: str | None = Field(default=None, max_length=64)
    config_id: str | None = Field(default=None, max_length=64)


# --- contacts, conversations, messages ---------------------------------------------------------------


class ContactOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24de1-0b7a-7f3e-9a55-2c8e1d4b6f10",
            "waId": "5511987654321",
            "phone": "+5511987654321",
            "name": "Maria Souza",
            "profileName": "Maria Souza",
            "userId": None,
            "username": None,
            "category": None,
            "createdAt": "2026-12-07T09:30:12.418207Z",
        }
    )
    id: str
    wa_id: str
    phone: str | None
    name: str | None = Field(description="The name a person gave the contact, else its WhatsApp profile name")
    profile_name: str | None = Field(description="The WhatsApp profile name, as the latest webhook gave it")
    user_id: str | None
    username: str | None
    category: str | None
    created_at: UtcDatetime


class UserRef(ApiModel):
    id: str
    name: str


class FollowUpOut(ApiModel):
    note: str | None
    due_at: UtcDatetime | None = Field(description="When to come back to the conversation")
    set_by_id: str | None
    set_at: UtcDatetime


class ConversationOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24de1-0b80-7c11-b2d4-7f6a9e3c5a02",
            "status": "OPEN",
            "origin": "INBOUND",
            "contact": examples_of(ContactOut)[0],
            "assignedTo": {"id": "01a24dda-3f64-7b6e-a01c-8d0461196f48", "name": "Ana Lima"},
            "assignedToId": "01a24dda-3f64-7b6e-a01c-8d0461196f48",
            "teamId": "01a24ddb-6a7c-7ac7-aaef-fb9d5951a553",
            "category": None,
            "priority": "NORMAL",
            "tags": [],
            "unreadCount": 1,
            "needsAction": True,
            "lastMessageAt": "2026-12-07T09:30:12Z",
            "lastMessagePreview": "Hi, where is my order?",
            "lastInboundAt": "2026-12-07T09:30:12Z",
            "followUp": None,
            "whatsappAccountId": "01a24de0-11c2-7d45-8b7e-5e0a7f3c9d21",
            "closedAt": None,
            "createdAt": "2026-12-07T09:30:12.420311Z",
            "updatedAt": "2026-12-07T09:30:12.420311Z",
        }
    )
    id: str
    status: ConversationStatus
    origin: ConversationOrigin
    contact: ContactOut
    assigned_to: UserRef | None
    assigned_to_id: str | None
    team_id: str | None
    category: str | None
    priority: str
    tags: list[TagOut]
    unread_count: int
    needs_action: bool = Field(description="The last message is the customer's: an answer is due")
    last_message_at: UtcDatetime | None
    last_message_preview: str | None
    last_inbound_at: UtcDatetime | None
    follow_up: FollowUpOut | None
    whatsapp_account_id: str
    closed_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


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


def media_out(runtime: Runtime, media: dict[str, Any] | None) -> MediaOut | None:
    if not media:
        return None
    key = media.get("storageKey")
    return MediaOut(
        mime_type=media.get("mimeType"),
        filename=media.get("filename"),
        url=file_url(runtime, key) if key else None,
        size=media.get("size"),
        sha256=media.get("sha256"),
        caption=media.get("caption"),
        download_state=media.get("state", "PENDING"),
        last_error=_media_error(media.get("lastError")),
        provider_media_id=media.get("providerMediaId"),
    )


def _media_error(error: Any) -> MediaErrorOut | None:
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    return MediaErrorOut(
        code=code if isinstance(code, int) else None, message=str(error.get("message") or "Download failed")
    )


def message_out(runtime: Runtime, message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        direction=message.direction,
        sender_type=message.sender_type,
        sender_user_id=message.sender_user_id,
        type=message.type,
        text=message.text,
        media=media_out(runtime, message.media),
        payload=message.payload,
        status=message.status,
        wa_message_id=message.wa_message_id,
        timestamp=message.ordered_at,
        context=message.context,
        reply_to_wa_message_id=message.reply_to_wa_message_id,
        reaction=message.reaction,
        referral=message.referral,
        error=message.error,
        pricing_category=message.pricing_category,
        edited_at=message.edited_at,
        deleted_at=message.deleted_at,
        is_hidden=message.is_hidden,
        simulated=message.simulated,
        created_at=message.created_at,
    )
