"""Wire models of the channel: its accounts (numbers) and Meta's app configuration."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples
from cxinbox.models.whatsapp import AccountStatus

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
