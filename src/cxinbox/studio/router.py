"""``/bot-config`` studio routes: prompt versions, presets, snapshots, export and import. ADMIN
writes; ADMIN and SUPERVISOR read. ``?botConfigId=`` names a draft (else the active config)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from cxinbox.auth.dependencies import ReadSessionDep, RuntimeDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.bot import configs
from cxinbox.bot.errors import BotNotAvailable
from cxinbox.bot.router import ConfigParam, EditorDep
from cxinbox.bot.schemas import BotConfigOut
from cxinbox.core.errors import AppError
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.studio import presets, prompt_history, snapshots
from cxinbox.studio.schemas import (
    CreatePreset,
    CreateSnapshot,
    PresetOut,
    PromptVersionOut,
    SnapshotOut,
    UpdatePreset,
)

router = APIRouter(prefix="/bot-config", tags=["bot-studio"], dependencies=[key_scope(Area.SETTINGS)])

_ADMIN = "Admins only (403 otherwise)."
_READERS = "Admins and supervisors."
_NO_BOT = AppError.responses(BotNotAvailable)


@router.get(
    "/prompt-versions",
    summary="Get prompt version history",
    description="The config's system prompt versions, newest first; the first is current. Every change "
    f"of the prompt (edit, import, snapshot restore, rollback) adds one. {_READERS}",
    responses=_NO_BOT,
)
async def prompt_versions(
    principal: SupervisorDep, session: ReadSessionDep, config_id: ConfigParam = None
) -> Envelope[list[PromptVersionOut]]:
    return Envelope(data=await prompt_history.history(session, principal, config_id))


@router.post(
    "/prompt-versions/{id}/activate",
    summary="Rollback to a previous prompt version",
    description="Copies the version's text into its config, recorded as a new version (source "
    f"ROLLBACK), which it answers. {_ADMIN}",
)
async def activate_prompt_version(
    id: str, editor: EditorDep, session: SessionDep
) -> Envelope[PromptVersionOut]:
    return Envelope(data=await prompt_history.rollback(session, editor, id))


@router.get(
    "/presets",
    summary="List provider presets for the current organization",
    description=f"Keys masked. Applying a preset: `POST /bot-config/presets/{{id}}/apply`. {_READERS}",
)
async def list_presets(
    principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[list[PresetOut]]:
    return Envelope(
        data=[presets.present(runtime, p) for p in await presets.list_presets(session, principal)]
    )


@router.post(
    "/presets",
    status_code=status.HTTP_201_CREATED,
    summary="Create a provider preset",
    description="`{name, provider, model, apiKey?, baseUrl?, temperature?, maxTokens?}`; the key is "
    f"stored encrypted, the base URL follows the configs' rules. {_ADMIN}",
)
async def create_preset(
    body: CreatePreset, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[PresetOut]:
    return Envelope(data=presets.present(runtime, await presets.create(session, runtime, editor, body)))


@router.put(
    "/presets/{id}",
    summary="Update a provider preset",
    description=f"Only the fields sent change; the masked key sent back keeps the key. {_ADMIN}",
)
async def update_preset(
    id: str, body: UpdatePreset, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[PresetOut]:
    return Envelope(data=presets.present(runtime, await presets.update(session, runtime, editor, id, body)))


@router.delete("/presets/{id}", summary="Delete a provider preset", description=_ADMIN)
async def delete_preset(id: str, editor: EditorDep, session: SessionDep) -> Envelope[Deleted]:
    await presets.delete(session, editor, id)
    return Envelope(data=Deleted(id=id))


@router.post(
    "/presets/{id}/apply",
    summary="Addition: apply a provider preset to a config",
    description="Addition: copies the preset's provider, model, key and base URL, and its "
    "temperature and max tokens when it has them, into the active config (or `botConfigId`). The "
    f"stored key is copied as it is, so it never travels through a client. {_ADMIN}",
    responses=_NO_BOT,
)
async def apply_preset(
    id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep, config_id: ConfigParam = None
) -> Envelope[BotConfigOut]:
    config = await presets.apply(session, runtime, editor, id, config_id)
    return Envelope(data=configs.present(runtime, config))


@router.get(
    "/snapshots",
    summary="List config snapshots (metadata only)",
    description=f"Of the active config (or `botConfigId`), newest first. {_READERS}",
    responses=_NO_BOT,
)
async def list_snapshots(
    principal: SupervisorDep, session: ReadSessionDep, config_id: ConfigParam = None
) -> Envelope[list[SnapshotOut]]:
    rows = await snapshots.list_snapshots(session, principal, config_id)
    return Envelope(data=[SnapshotOut.model_validate(s) for s in rows])


@router.post(
    "/snapshots",
    status_code=status.HTTP_201_CREATED,
    summary="Create a config snapshot",
    description="`{name?}`: the active config (or `botConfigId`) at the bundle's `config` tier. A "
    f"config keeps at most {snapshots.MAX_SNAPSHOTS}: past that the oldest automatic snapshot is "
    f"dropped first, then the oldest one taken by hand. {_ADMIN}",
    responses=_NO_BOT,
)
async def create_snapshot(
    editor: EditorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    body: Annotated[CreateSnapshot | None, Body()] = None,
    config_id: ConfigParam = None,
) -> Envelope[SnapshotOut]:
    snapshot = await snapshots.create(session, runtime, editor, config_id, body.name if body else None)
    return Envelope(data=SnapshotOut.model_validate(snapshot))


@router.post(
    "/snapshots/{id}/restore",
    summary="Restore a config snapshot",
    description="Replaces the snapshot's config in place (settings, prompt, intents; its name, "
    "activation and keys stay), after taking an automatic snapshot of it. A changed prompt adds a "
    f"version (RESTORE). Answers the config. {_ADMIN}",
)
async def restore_snapshot(
    id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BotConfigOut]:
    return Envelope(data=configs.present(runtime, await snapshots.restore(session, runtime, editor, id)))


@router.delete("/snapshots/{id}", summary="Delete a config snapshot", description=_ADMIN)
async def delete_snapshot(id: str, editor: EditorDep, session: SessionDep) -> Envelope[Deleted]:
    await snapshots.delete(session, editor, id)
    return Envelope(data=Deleted(id=id))
