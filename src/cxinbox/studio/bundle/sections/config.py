"""``config`` (settings, prompt, mode, categories; never a key or the N8N secret) and ``intents``
(tools and teams named, not by id: they are looked up by name in the importing organization, and a
name it does not have leaves the reference empty; media ids are not carried)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from sqlalchemy import delete, select

from cxinbox.bot import configs
from cxinbox.bot.schemas import BotConfigFields, IntentFields, Name
from cxinbox.models.bot import BotIntent
from cxinbox.models.teams import Team
from cxinbox.models.tools import BotTool
from cxinbox.studio.bundle.registry import ExportContext, ImportContext, Section, Tier

MAX_INTENTS = 1_000
#: what the config section never carries, whatever a bundle holds
SECRET_FIELDS = ("apiKey", "api_key", "n8nSecret", "n8n_secret")


class BundleConfig(BotConfigFields):
    name: Name


class BundleIntent(IntentFields):
    name: Name
    tool: Annotated[str, Field(max_length=64)] | None = Field(default=None, description="The tool's name")
    handoff_team: Annotated[str, Field(max_length=120)] | None = Field(
        default=None, description="The team's name"
    )
    order: Annotated[int, Field(ge=0, le=100_000)] = 0


_INTENTS = TypeAdapter(Annotated[list[BundleIntent], Field(max_length=MAX_INTENTS)])


async def export_config(ctx: ExportContext) -> dict[str, Any]:
    c = ctx.config
    return {
        "name": c.name.removesuffix(configs.DRAFT_SUFFIX),
        "provider": c.provider,
        "model": c.model,
        "baseUrl": c.base_url,
        "systemPrompt": c.system_prompt,
        "temperature": c.temperature,
        "maxTokens": c.max_tokens,
        "mode": c.mode.value,
        "n8nWebhookUrl": c.n8n_webhook_url,
        "categories": c.categories or [],
        "debounceSeconds": c.debounce_seconds,
    }


def validate_config(value: Any) -> BundleConfig:
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    return BundleConfig.model_validate({k: v for k, v in value.items() if k not in SECRET_FIELDS})


async def write_config(ctx: ImportContext, value: BundleConfig) -> None:
    configs.apply_fields(ctx.runtime, ctx.config, value)


async def export_intents(ctx: ExportContext) -> list[dict[str, Any]]:
    org = ctx.config.organization_id
    stmt = (
        select(BotIntent, BotTool.name, Team.name)
        .outerjoin(BotTool, (BotTool.id == BotIntent.tool_id) & (BotTool.organization_id == org))
        .outerjoin(Team, (Team.id == BotIntent.handoff_team_id) & (Team.organization_id == org))
        .where(BotIntent.organization_id == org, BotIntent.bot_config_id == ctx.config.id)
        .order_by(BotIntent.order, BotIntent.created_at)
    )
    return [
        {
            "name": intent.name,
            "description": intent.description,
            "examples": intent.examples,
            "action": intent.action.value,
            "response": intent.response,
            "tool": tool,
            "handoffTeam": team,
            "isActive": intent.is_active,
            "order": intent.order,
        }
        for intent, tool, team in (await ctx.session.execute(stmt)).all()
    ]


def validate_intents(value: Any) -> list[BundleIntent]:
    return _INTENTS.validate_python(value)


async def write_intents(ctx: ImportContext, value: list[BundleIntent]) -> None:
    """The config's intents become the bundle's (a restore replaces them)."""
    session, config = ctx.session, ctx.config
    org = config.organization_id
    await session.execute(
        delete(BotIntent).where(BotIntent.organization_id == org, BotIntent.bot_config_id == config.id)
    )
    tools = await _ids_by_name(ctx, BotTool.id, BotTool.name, BotTool.organization_id)
    teams = await _ids_by_name(ctx, Team.id, Team.name, Team.organization_id)
    for intent in value:
        session.add(
            BotIntent(
                organization_id=org,
                bot_config_id=config.id,
                name=intent.name,
                description=intent.description,
                examples=intent.examples or [],
                action=intent.action or "REPLY",
                response=intent.response,
                media_ids=[],
                tool_id=tools.get(intent.tool or ""),
                handoff_team_id=teams.get(intent.handoff_team or ""),
                is_active=True if intent.is_active is None else intent.is_active,
                order=intent.order,
            )
        )
    await session.flush()


async def _ids_by_name(
    ctx: ImportContext, id_column: Any, name_column: Any, org_column: Any
) -> dict[str, str]:
    stmt = select(name_column, id_column).where(org_column == ctx.config.organization_id)
    return {name: id for name, id in (await ctx.session.execute(stmt)).all()}


SECTIONS = (
    Section("config", Tier.CONFIG, export_config, validate_config, write_config),
    Section("intents", Tier.CONFIG, export_intents, validate_intents, write_intents),
)
