"""Provider presets: a name, a provider and model, and optionally a key (encrypted, masked on read
like a config's), a base URL (the configs' outbound rules) and sampling settings. Applying one
copies the values it holds into a config, its key included, so the key never travels through a
client."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.registry import Provider
from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.bot import configs
from cxinbox.core.crypto import mask_secret
from cxinbox.core.errors import ValidationFailed
from cxinbox.core.events import publish_event
from cxinbox.core.repository import TenantRepository
from cxinbox.models.bot import BotConfig
from cxinbox.models.bot_studio import BotPreset
from cxinbox.runtime import Runtime
from cxinbox.studio.schemas import CreatePreset, PresetBody, PresetOut, UpdatePreset

_PLAIN = ("name", "provider", "model", "base_url", "temperature", "max_tokens")


class PresetRepository(TenantRepository[BotPreset]):
    model = BotPreset
    not_found_message = "Preset not found"

    async def listed(self) -> Sequence[BotPreset]:
        return await self.list(self.select().order_by(BotPreset.created_at, BotPreset.id))


async def list_presets(session: AsyncSession, principal: Principal) -> Sequence[BotPreset]:
    return await PresetRepository(session, principal.tenant).listed()


async def create(session: AsyncSession, runtime: Runtime, editor: Actor, body: CreatePreset) -> BotPreset:
    repo = PresetRepository(session, editor.principal.tenant)
    preset = repo.add(BotPreset(name=body.name, provider=body.provider.value, model=body.model))
    _write(runtime, preset, body)
    await repo.flush()
    _audit(session, editor, "bot_preset.created", preset)
    return preset


async def update(
    session: AsyncSession, runtime: Runtime, editor: Actor, preset_id: str, body: UpdatePreset
) -> BotPreset:
    repo = PresetRepository(session, editor.principal.tenant)
    preset = await repo.get_or_404(preset_id)
    _write(runtime, preset, body)
    await repo.flush()
    _audit(session, editor, "bot_preset.updated", preset)
    return preset


async def delete(session: AsyncSession, editor: Actor, preset_id: str) -> None:
    repo = PresetRepository(session, editor.principal.tenant)
    preset = await repo.get_or_404(preset_id)
    await repo.delete(preset)
    await repo.flush()
    _audit(session, editor, "bot_preset.deleted", preset)


async def apply(
    session: AsyncSession, runtime: Runtime, editor: Actor, preset_id: str, config_id: str | None
) -> BotConfig:
    """The preset's provider, model, key and the settings it holds copied into the config."""
    preset = await PresetRepository(session, editor.principal.tenant).get_or_404(preset_id)
    config = await configs.config_or_active(session, editor.principal, config_id)
    config.provider, config.model, config.base_url = preset.provider, preset.model, preset.base_url
    config.api_key_encrypted = preset.api_key_encrypted
    if preset.temperature is not None:
        config.temperature = preset.temperature
    if preset.max_tokens is not None:
        config.max_tokens = preset.max_tokens
    configs.check_endpoint(runtime, preset.provider, preset.base_url)
    await session.flush()
    publish_event(
        session, config.organization_id, "bot_config.updated", {"id": config.id, "name": config.name}
    )
    editor.record(
        session,
        "bot_config.preset_applied",
        target_type="bot_config",
        target_id=config.id,
        details={"preset": preset.name},
    )
    return config


def present(runtime: Runtime, preset: BotPreset) -> PresetOut:
    key = runtime.secrets.decrypt(preset.api_key_encrypted) if preset.api_key_encrypted else None
    return PresetOut(
        id=preset.id,
        name=preset.name,
        provider=Provider(preset.provider),
        model=preset.model,
        api_key=mask_secret(key),
        base_url=preset.base_url,
        temperature=preset.temperature,
        max_tokens=preset.max_tokens,
        created_at=preset.created_at,
        updated_at=preset.updated_at,
    )


def _write(runtime: Runtime, preset: BotPreset, body: PresetBody) -> None:
    sent = body.model_fields_set
    for field in _PLAIN:
        if field not in sent:
            continue
        value = getattr(body, field)
        if value is None and field in ("name", "provider", "model"):
            raise ValidationFailed.field(field, "must not be null")
        setattr(preset, field, value.value if isinstance(value, Provider) else value)
    if "api_key" in sent:
        preset.api_key_encrypted = configs.stored_secret(runtime, body.api_key, preset.api_key_encrypted)
    configs.check_endpoint(runtime, preset.provider, preset.base_url)


def _audit(session: AsyncSession, editor: Actor, action: str, preset: BotPreset) -> None:
    editor.record(
        session, action, target_type="bot_preset", target_id=preset.id, details={"name": preset.name}
    )
