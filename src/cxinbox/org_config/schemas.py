from __future__ import annotations

from pydantic import Field, field_validator

from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime


class Branding(ApiModel):
    organization_id: str | None = Field(description="null for the platform's own branding")
    client_id: str | None = Field(description="The organization's slug: the `clientId` of public branding")
    company_name: str
    company_logo_url: str | None
    whatsapp_phone: str | None
    primary_color: str | None


class UpdateBranding(RequestModel):
    company_name: str | None = Field(
        default=None, max_length=200, description="Shown instead of the organization's name; empty resets"
    )
    company_logo_url: str | None = Field(
        default=None,
        max_length=2000,
        description="An http(s) URL of a logo hosted elsewhere (replaces an uploaded one); "
        "null or empty removes it",
    )
    whatsapp_phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ()-]{5,31}$")
    primary_color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")

    @field_validator("company_logo_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value or None


class Toggle(RequestModel):
    enabled: bool


class BotMode(ApiModel):
    outside_hours_only: bool = Field(
        description="The bot takes new conversations only outside business hours"
    )
    handoff_on_request: bool = Field(description="Hand the conversation to a human when the customer asks")
    handles_reopened: bool = Field(description="A conversation the customer reopens starts with the bot")


class UpdateBotMode(RequestModel):
    outside_hours_only: bool | None = None
    handoff_on_request: bool | None = None
    handles_reopened: bool | None = None


class PublicPlatformStats(ApiModel):
    organizations: int = Field(description="Active organizations")
    users: int = Field(description="Active users of active organizations")
    generated_at: UtcDatetime
