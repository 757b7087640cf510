"""``/bot-config``: configs, keys, models, tests, usage and intents. ADMIN writes and tests; ADMIN and
SUPERVISOR read (the key masked); only ADMIN reveals the key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, status

from cxinbox.adapters.llm.registry import Provider
from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import AdminDep, ReadSessionDep, RuntimeDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import NO_API_KEYS, Area, key_scope
from cxinbox.bot import configs, intents, llm, providers, reprocess, testing, usage
from cxinbox.bot.errors import ERRORS, ActiveConfigLocked, BotNotAvailable, SandboxNeedsLlm
from cxinbox.bot.repository import BotConfigRepository
from cxinbox.bot.schemas import (
    BotConfigOut,
    CreateBotConfig,
    CreateIntent,
    DuplicateBotConfig,
    IntentOut,
    KeyValidity,
    ModelOut,
    ReorderIntents,
    RevealedKey,
    SandboxMessage,
    SandboxReply,
    TestMessage,
    TestReply,
    UpdateIntent,
    UpsertBotConfig,
    UsageOut,
    ValidateKey,
)
from cxinbox.core.errors import AppError
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.models.identity import Organization, Role

router = APIRouter(prefix="/bot-config", tags=["bot-config"], dependencies=[key_scope(Area.SETTINGS)])

EditorDep = Annotated[Actor, Depends(acting_as(Role.ADMIN))]
ConfigParam = Annotated[
    str | None,
    Query(alias="botConfigId", max_length=36, description="Addition: a draft config (else the active one)"),
]
_ADMIN = "Admins only (403 otherwise)."
_READERS = "Admins and supervisors."
_CALLS = AppError.responses(*ERRORS)


@router.get(
    "",
    summary="Get bot configuration for the current organization",
    description=f"The active config (`data: null` when there is none), its `apiKey` masked. {_READERS}",
)
async def get_active(
    principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[BotConfigOut | None]:
    config = await configs.active_config(session, principal)
    return Envelope(data=None if config is None else configs.present(runtime, config))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a new bot config (draft)",
    description='`{name}` plus any config field; the name gets "(draft)" and the config is not '
    f"active. {_ADMIN}",
)
async def create(
    body: CreateBotConfig, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BotConfigOut]:
    return Envelope(data=configs.present(runtime, await configs.create(session, runtime, editor, body)))


@router.put(
    "",
    summary="Upsert bot configuration",
    description="Updates the config named by `id`, else the active config, creating (and activating) "
    f"one if the organization has none. Only the fields sent change. {_ADMIN}",
)
async def upsert(
    body: UpsertBotConfig, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BotConfigOut]:
    return Envelope(data=configs.present(runtime, await configs.upsert(session, runtime, editor, body)))


@router.get(
    "/list",
    summary="List all bot configs for the organization",
    description=f"The active one first. {_READERS}",
)
async def list_configs(
    principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[list[BotConfigOut]]:
    return Envelope(
        data=[configs.present(runtime, c) for c in await configs.list_configs(session, principal)]
    )


@router.get(
    "/reveal-key",
    summary="Reveal the full (unmasked) API key",
    description="Of the active config (or `botConfigId`); written to the audit log. "
    f"{_ADMIN} No API key may call it.",
    dependencies=[NO_API_KEYS],
    responses=AppError.responses(BotNotAvailable),
)
async def reveal_key(
    editor: EditorDep, session: SessionDep, runtime: RuntimeDep, config_id: ConfigParam = None
) -> Envelope[RevealedKey]:
    return Envelope(data=RevealedKey(api_key=await configs.reveal_key(session, runtime, editor, config_id)))


@router.post(
    "/test",
    summary="Test LLM with a message",
    description="One completion of the active config (or `botConfigId`) with its system prompt: "
    f"`{{reply, usage, latencyMs}}`. Nothing is sent on WhatsApp, no reply is counted. {_ADMIN}",
    responses=_CALLS,
)
async def test(
    body: TestMessage, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TestReply]:
    return Envelope(data=await testing.test(session, runtime, principal, body))


@router.post(
    "/test-sandbox",
    summary="Sandbox chat - admin converses with bot without sending to WA",
    description="`{message, sessionId?, botConfigId?, reset?}`: intents are matched first, then the "
    "LLM answers with the conversation so far, the knowledge found and the organization's tools, and "
    "may call `handoff_to_human`: the same turn the bot runs for customers, its trace stored "
    "(`traceId`); the session's turns are kept on the server. Tools are dry runs unless "
    "`executeTools`. Nothing is sent on WhatsApp, no reply is counted. An N8N config answers 409 "
    f"`SANDBOX_NEEDS_LLM_MODE` (its workflow answers real conversations only). {_ADMIN}",
    responses=AppError.responses(*ERRORS, SandboxNeedsLlm),
)
async def test_sandbox(
    body: SandboxMessage, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[SandboxReply]:
    return Envelope(data=await testing.sandbox(session, runtime, principal, body))


@router.get(
    "/models",
    summary="Get available models for a provider",
    description="A curated list merged with the provider's live list when the organization's active "
    "config is for that provider (LOCAL: its server's `GET /models`). A provider error falls back to "
    f"the curated list. {_READERS}",
)
async def models(
    principal: SupervisorDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    provider: Annotated[Provider, Query(description="The provider")],
) -> Envelope[list[ModelOut]]:
    config = await BotConfigRepository(session, principal.tenant).active()
    target = llm.target_of(runtime, config) if config and config.provider == provider else None
    return Envelope(data=await providers.models(runtime, provider, target))


@router.post(
    "/validate-key",
    summary="Validate an AI API key",
    description="A tiny completion with the key: `{valid, reason, message}`. The provider "
    f"refusing the key, or failing, answers 200 with `valid: false`. {_ADMIN}",
)
async def validate_key(body: ValidateKey, principal: AdminDep, runtime: RuntimeDep) -> Envelope[KeyValidity]:
    return Envelope(data=await providers.validate_key(runtime, body))


@router.get(
    "/usage",
    summary="Get current month usage and plan limits",
    description=f"`{{period, botReplies, limit, remaining, inputTokens, outputTokens}}`. {_READERS}",
)
async def current_usage(principal: SupervisorDep, session: ReadSessionDep) -> Envelope[UsageOut]:
    org = await session.get_one(Organization, principal.tenant.organization_id)
    return Envelope(data=await usage.current(session, org))


@router.get(
    "/usage/history",
    summary="Get last 12 months of usage",
    description=f"Oldest first, zeros included. {_READERS}",
)
async def usage_history(principal: SupervisorDep, session: ReadSessionDep) -> Envelope[list[UsageOut]]:
    org = await session.get_one(Organization, principal.tenant.organization_id)
    return Envelope(data=await usage.history(session, org))


@router.post(
    "/reprocess-pending",
    summary="Reprocesar conversaciones BOT_HANDLING sin respuesta del bot",
    description="Queues a bot turn for each BOT_HANDLING conversation whose last message is the "
    "customer's, with no bot reply after it; answers at once with how many were queued. 409 "
    "BOT_NOT_AVAILABLE without an active config. " + _ADMIN,
    responses=AppError.responses(BotNotAvailable),
)
async def reprocess_pending(principal: AdminDep, session: SessionDep) -> Envelope[dict[str, int]]:
    return Envelope(data=await reprocess.reprocess_pending(session, principal))


@router.get(
    "/intents",
    summary="List bot intents for the current organization",
    description=f"Of the active config (or `botConfigId`), in order. {_READERS}",
)
async def list_intents(
    principal: SupervisorDep, session: ReadSessionDep, config_id: ConfigParam = None
) -> Envelope[list[IntentOut]]:
    return Envelope(
        data=[intents.present(i) for i in await intents.list_intents(session, principal, config_id)]
    )


@router.post(
    "/intents",
    status_code=status.HTTP_201_CREATED,
    summary="Create a bot intent",
    description="`{name, description, examples[], action: REPLY|MEDIA|HANDOFF|TOOL, response, mediaIds[], "
    f"toolId, handoffTeamId, isActive}}`, added last, in the active config (or `botConfigId`). {_ADMIN}",
)
async def create_intent(
    body: CreateIntent, editor: EditorDep, session: SessionDep, config_id: ConfigParam = None
) -> Envelope[IntentOut]:
    return Envelope(data=intents.present(await intents.create(session, editor, config_id, body)))


@router.put(
    "/intents/reorder",
    summary="Reorder bot intents",
    description="`{ids}`: these first, in this order; the config's others follow. Answers the "
    f"intents in order. {_ADMIN}",
)
async def reorder_intents(
    editor: EditorDep,
    session: SessionDep,
    body: Annotated[ReorderIntents | None, Body()] = None,
    config_id: ConfigParam = None,
) -> Envelope[list[IntentOut]]:
    ordered = await intents.reorder(session, editor, config_id, body or ReorderIntents())
    return Envelope(data=[intents.present(i) for i in ordered])


@router.put(
    "/intents/{id}", summary="Update a bot intent", description=f"Only the fields sent change. {_ADMIN}"
)
async def update_intent(
    id: str, body: UpdateIntent, editor: EditorDep, session: SessionDep
) -> Envelope[IntentOut]:
    return Envelope(data=intents.present(await intents.update(session, editor, id, body)))


@router.delete("/intents/{id}", summary="Delete a bot intent", description=_ADMIN)
async def delete_intent(id: str, editor: EditorDep, session: SessionDep) -> Envelope[Deleted]:
    await intents.delete(session, editor, id)
    return Envelope(data=Deleted(id=id))


@router.post(
    "/{id}/duplicate",
    status_code=status.HTTP_201_CREATED,
    summary="Duplicate a bot config (deep copy with intents)",
    description=f"`{{name?}}`; the copy is a draft. {_ADMIN}",
)
async def duplicate(
    id: str,
    editor: EditorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    body: Annotated[DuplicateBotConfig | None, Body()] = None,
) -> Envelope[BotConfigOut]:
    copy = await configs.duplicate(session, editor, id, body.name if body else None)
    return Envelope(data=configs.present(runtime, copy))


@router.put(
    "/{id}/activate",
    summary="Activate a bot config (deactivates the currently active one)",
    description=_ADMIN,
)
async def activate(
    id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BotConfigOut]:
    return Envelope(data=configs.present(runtime, await configs.activate(session, editor, id)))


@router.delete(
    "/{id}",
    summary="Delete a draft bot config (cannot delete the active one)",
    description=f"409 BOT_CONFIG_ACTIVE for the active one. {_ADMIN}",
    responses=AppError.responses(ActiveConfigLocked),
)
async def delete(id: str, editor: EditorDep, session: SessionDep) -> Envelope[Deleted]:
    await configs.delete(session, editor, id)
    return Envelope(data=Deleted(id=id))
