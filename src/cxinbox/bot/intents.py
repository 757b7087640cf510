"""Intents belong to a config; the endpoints act on the active config, ``?botConfigId=`` reaches a
draft. ``order`` decides which intent is tried first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.bot.configs import config_or_active
from cxinbox.bot.repository import BotIntentRepository
from cxinbox.bot.schemas import CreateIntent, IntentFields, IntentOut, ReorderIntents, UpdateIntent, wire_name
from cxinbox.core.errors import ValidationFailed
from cxinbox.models.bot import BotIntent, IntentAction
from cxinbox.models.teams import Team

_FIELDS = (
    "name",
    "description",
    "examples",
    "action",
    "response",
    "media_ids",
    "tool_id",
    "handoff_team_id",
    "is_active",
)
_LISTS = ("examples", "media_ids")


async def list_intents(
    session: AsyncSession, principal: Principal, config_id: str | None
) -> Sequence[BotIntent]:
    config = await config_or_active(session, principal, config_id)
    return await BotIntentRepository(session, principal.tenant).of_config(config.id)


async def create(
    session: AsyncSession, editor: Actor, config_id: str | None, body: CreateIntent
) -> BotIntent:
    config = await config_or_active(session, editor.principal, config_id)
    repo = BotIntentRepository(session, editor.principal.tenant)
    intent = repo.add(
        BotIntent(
            bot_config_id=config.id,
            name=body.name,
            examples=[],
            media_ids=[],
            action=IntentAction.REPLY,
            is_active=True,
            order=await repo.next_order(config.id),
        )
    )
    await _apply(session, editor.principal, intent, body)
    await repo.flush()
    _audit(session, editor, "bot_intent.created", intent)
    return intent


async def update(session: AsyncSession, editor: Actor, intent_id: str, body: UpdateIntent) -> BotIntent:
    repo = BotIntentRepository(session, editor.principal.tenant)
    intent = await repo.get_or_404(intent_id)
    await _apply(session, editor.principal, intent, body)
    await repo.flush()
    _audit(session, editor, "bot_intent.updated", intent)
    return intent


async def delete(session: AsyncSession, editor: Actor, intent_id: str) -> None:
    repo = BotIntentRepository(session, editor.principal.tenant)
    intent = await repo.get_or_404(intent_id)
    await repo.delete(intent)
    await repo.flush()
    _audit(session, editor, "bot_intent.deleted", intent)


async def reorder(
    session: AsyncSession, editor: Actor, config_id: str | None, body: ReorderIntents
) -> Sequence[BotIntent]:
    """The ids given come first, in that order; the config's other intents follow as they were."""
    config = await config_or_active(session, editor.principal, config_id)
    repo = BotIntentRepository(session, editor.principal.tenant)
    intents = list(await repo.of_config(config.id))
    by_id = {i.id: i for i in intents}
    unknown = [i for i in body.ids if i not in by_id]
    if unknown or len(set(body.ids)) != len(body.ids):
        raise ValidationFailed.field("ids", "must be distinct intents of the config")
    ordered = [by_id[i] for i in body.ids] + [i for i in intents if i.id not in set(body.ids)]
    for position, intent in enumerate(ordered):
        intent.order = position
    await repo.flush()
    editor.record(
        session,
        "bot_intent.reordered",
        target_type="bot_config",
        target_id=config.id,
        details={"ids": [i.id for i in ordered]},
    )
    return ordered


def present(intent: BotIntent) -> IntentOut:
    return IntentOut.model_validate(intent)


async def _apply(session: AsyncSession, principal: Principal, intent: BotIntent, body: IntentFields) -> None:
    sent = body.model_fields_set
    for field in _FIELDS:
        if field not in sent:
            continue
        value = getattr(body, field)
        if value is None and field in (*_LISTS, "name", "action", "is_active"):
            raise ValidationFailed.field(wire_name(body, field), "must not be null")
        setattr(intent, field, value)
    if "handoff_team_id" in sent and body.handoff_team_id is not None:
        team = await session.get(Team, body.handoff_team_id)
        if team is None or team.organization_id != principal.organization_id:
            raise ValidationFailed.field("handoffTeamId", "no such team")
    if intent.action == IntentAction.REPLY and not (intent.response or "").strip():
        raise ValidationFailed.field("response", "a REPLY intent needs its response")
    if intent.action == IntentAction.TOOL and not intent.tool_id:
        raise ValidationFailed.field("toolId", "a TOOL intent needs its tool")


def _audit(session: AsyncSession, editor: Actor, action: str, intent: BotIntent) -> None:
    editor.record(
        session,
        action,
        target_type="bot_intent",
        target_id=intent.id,
        details={"name": intent.name, "botConfigId": intent.bot_config_id},
    )
