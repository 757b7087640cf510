"""Wire models of the bot studio."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from cxinbox.adapters.llm.registry import Provider
from cxinbox.bot.prompt_versions import VersionSource
from cxinbox.bot.schemas import BotConfigOut, HttpUrl, MaxTokens, ModelName, Name, Secret, Temperature
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError("must be lowercase letters and digits joined by single hyphens")
    return value


Slug = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_slug)]
Description = Annotated[str, Field(max_length=2000)]


class PromptVersionOut(ApiModel):
    id: str
    bot_config_id: str
    number: int
    system_prompt: str
    source: VersionSource = Field(description="What wrote it: EDIT, IMPORT, RESTORE or ROLLBACK")
    author_id: str | None
    is_current: bool = Field(description="The highest number: the config's text")
    created_at: UtcDatetime


class PresetFields(RequestModel):
    """A preset's settable fields; each one left out is left as it is."""

    provider: Provider | None = None
    model: ModelName | None = None
    base_url: HttpUrl = Field(default=None, description="Overrides the provider's API base")
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None


class PresetBody(PresetFields):
    api_key: Secret = Field(
        default=None,
        description="Stored encrypted, shown masked; the masked value sent back leaves it as it is",
    )


class CreatePreset(PresetBody):
    model_config = examples({"name": "OpenAI mini", "provider": "OPENAI", "model": "gpt-4o-mini"})
    name: Name
    provider: Provider
    model: ModelName


class UpdatePreset(PresetBody):
    name: Name | None = None


class PresetOut(ApiModel):
    id: str
    name: str
    provider: Provider
    model: str
    api_key: str | None = Field(description="Masked: the last four characters at most")
    base_url: str | None
    temperature: float | None
    max_tokens: int | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CreateSnapshot(RequestModel):
    name: Name | None = Field(default=None, description="Default: the config's name and the time")


class SnapshotOut(ApiModel):
    id: str
    bot_config_id: str
    name: str
    automatic: bool = Field(description="Taken by a restore")
    size: int = Field(description="Bytes of the held bundle")
    created_by_id: str | None
    created_at: UtcDatetime


class BotTemplateFields(RequestModel):
    description: Description | None = None
    is_published: bool | None = None


class CreateBotTemplate(BotTemplateFields):
    model_config = examples(
        {"name": "Soporte", "slug": "soporte", "bundle": {"format": "cxinbox.bot-bundle"}}
    )
    name: Name
    slug: Slug
    bundle: dict[str, object] = Field(description="A bundle (its `config` tier sections are kept)")


class UpdateBotTemplate(BotTemplateFields):
    name: Name | None = None
    slug: Slug | None = None
    bundle: dict[str, object] | None = None


class BotTemplateFromConfig(RequestModel):
    model_config = examples(
        {"orgId": "01a24ddb-6b0d-719d-a033-02bcfc055c30", "name": "Soporte", "slug": "soporte"}
    )
    org_id: Annotated[str, Field(max_length=36)]
    name: Name
    slug: Slug
    description: Description | None = None
    is_published: bool = False


class BotTemplateOut(ApiModel):
    id: str
    name: str
    slug: str
    description: str | None
    is_published: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class SubmitFeedback(RequestModel):
    model_config = examples({"messageId": "string", "conversationId": "string", "rating": 0})
    message_id: Annotated[str, Field(max_length=36)]
    conversation_id: Annotated[str, Field(max_length=36)]
    rating: Annotated[int, Field(ge=0, le=1, description="0 not helpful, 1 helpful")]
    comment: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="Addition: why (at most 2,000 characters)"
    )


class FeedbackOut(ApiModel):
    id: str
    message_id: str
    conversation_id: str
    user_id: str
    rating: int
    comment: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ImportedConfigOut(BotConfigOut):
    import_notes: list[str] = Field(
        default_factory=list,
        description="Addition: what the import skipped and why (bot media whose file the bundle lacks)",
    )
