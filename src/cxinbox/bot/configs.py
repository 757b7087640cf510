"""Bot configs: several per organization, at most one active. ADMIN writes, ADMIN and SUPERVISOR
read the config with its key masked; revealing the key is written to the audit log."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.registry import PROVIDERS, Provider
from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.bot import prompt_versions
from cxinbox.bot.errors import ActiveConfigLocked, BotNotAvailable
from cxinbox.bot.repository import BotConfigRepository, BotIntentRepository
from cxinbox.bot.schemas import (
    MASK,
    BotConfigFields,
    BotConfigOut,
    Category,
    CreateBotConfig,
    UpsertBotConfig,
    wire_name,
)
from cxinbox.core.crypto import mask_secret
from cxinbox.core.errors import ValidationFailed
from cxinbox.core.events import publish_event
from cxinbox.core.outbound import is_public_address
from cxinbox.models.bot import BotConfig, BotIntent, BotMode
from cxinbox.runtime import Runtime

DRAFT_SUFFIX = " (draft)"
COPY_SUFFIX = " (copy)"
_PLAIN_FIELDS = (
    "provider",
    "model",
    "base_url",
    "system_prompt",
    "temperature",
    "max_tokens",
    "mode",
    "n8n_webhook_url",
    "debounce_seconds",
    "handoff_on_injection",
)
#: fields copied by ``duplicate`` (the keys are copied encrypted as they are)
_COPIED = (*_PLAIN_FIELDS, "api_key_encrypted", "n8n_secret_encrypted", "categories")


async def active_config(session: AsyncSession, principal: Principal) -> BotConfig | None:
    return await BotConfigRepository(session, principal.tenant).active()


async def config_or_active(session: AsyncSession, principal: Principal, config_id: str | None) -> BotConfig:
    """The config named (404 if it is not the organization's), else the active one (409 if none)."""
    repo = BotConfigRepository(session, principal.tenant)
    if config_id:
        return await repo.get_or_404(config_id)
    config = await repo.active()
    if config is None:
        raise BotNotAvailable()
    return config


async def list_configs(session: AsyncSession, principal: Principal) -> Sequence[BotConfig]:
    return await BotConfigRepository(session, principal.tenant).listed()


async def create(session: AsyncSession, runtime: Runtime, editor: Actor, body: CreateBotConfig) -> BotConfig:
    """A new draft: its name says so, and it is not active."""
    repo = BotConfigRepository(session, editor.principal.tenant)
    name = body.name if body.name.endswith(DRAFT_SUFFIX) else body.name + DRAFT_SUFFIX
    config = repo.add(new_config(name[:100], editor))
    apply_fields(runtime, config, body)
    await repo.flush()
    await prompt_versions.record(session, config, editor.principal.user_id)
    _changed(session, editor, "bot_config.created", config)
    return config


async def upsert(session: AsyncSession, runtime: Runtime, editor: Actor, body: UpsertBotConfig) -> BotConfig:
    """``PUT``: the config named by ``id``, else the active one, else a new one (made active)."""
    repo = BotConfigRepository(session, editor.principal.tenant)
    config = await repo.get_or_404(body.id) if body.id else await repo.active()
    action = "bot_config.updated"
    if config is None:
        config = repo.add(new_config(body.name or "Bot", editor))
        config.is_active = True
        action = "bot_config.created"
    elif body.name is not None:
        config.name = body.name
    apply_fields(runtime, config, body)
    await repo.flush()
    await prompt_versions.record(session, config, editor.principal.user_id)
    _changed(session, editor, action, config, changed=sorted(body.model_fields_set - {"id"}))
    return config


async def duplicate(session: AsyncSession, editor: Actor, config_id: str, name: str | None) -> BotConfig:
    """A deep copy (intents included), as a draft."""
    repo = BotConfigRepository(session, editor.principal.tenant)
    source = await repo.get_or_404(config_id)
    copy = repo.add(new_config(name or (source.name.removesuffix(DRAFT_SUFFIX) + COPY_SUFFIX)[:100], editor))
    for field in _COPIED:
        setattr(copy, field, getattr(source, field))
    await repo.flush()
    await prompt_versions.record(session, copy, editor.principal.user_id)
    intents = BotIntentRepository(session, editor.principal.tenant)
    for intent in await intents.of_config(source.id):
        intents.add(
            BotIntent(
                bot_config_id=copy.id,
                **{
                    c.key: getattr(intent, c.key)
                    for c in BotIntent.__table__.columns
                    if c.key not in {"id", "organization_id", "bot_config_id", "created_at", "updated_at"}
                },
            )
        )
    await repo.flush()
    _changed(session, editor, "bot_config.created", copy, duplicated_from=source.id)
    return copy


async def activate(session: AsyncSession, editor: Actor, config_id: str) -> BotConfig:
    repo = BotConfigRepository(session, editor.principal.tenant)
    config = await repo.get_or_404(config_id)
    if not config.is_active:
        stmt = (
            update(BotConfig)
            .where(BotConfig.organization_id == config.organization_id, BotConfig.is_active.is_(True))
            .values(is_active=False)
        )
        await session.execute(stmt.execution_options(synchronize_session="fetch"))
        config.is_active = True
        config.name = config.name.removesuffix(DRAFT_SUFFIX)
        await repo.flush()
        _changed(session, editor, "bot_config.activated", config)
    return config


async def delete(session: AsyncSession, editor: Actor, config_id: str) -> None:
    repo = BotConfigRepository(session, editor.principal.tenant)
    config = await repo.get_or_404(config_id)
    if config.is_active:
        raise ActiveConfigLocked()
    await repo.delete(config)
    await repo.flush()
    publish_event(session, config.organization_id, "bot_config.deleted", {"id": config.id})
    editor.record(session, "bot_config.deleted", target_type="bot_config", target_id=config.id)


async def reveal_key(
    session: AsyncSession, runtime: Runtime, editor: Actor, config_id: str | None
) -> str | None:
    config = await config_or_active(session, editor.principal, config_id)
    editor.record(
        session,
        "bot_config.key_revealed",
        target_type="bot_config",
        target_id=config.id,
        details={"name": config.name},
    )
    return _decrypt(runtime, config.api_key_encrypted)


def api_key(runtime: Runtime, config: BotConfig) -> str | None:
    return _decrypt(runtime, config.api_key_encrypted)


def present(runtime: Runtime, config: BotConfig) -> BotConfigOut:
    return BotConfigOut(
        id=config.id,
        name=config.name,
        provider=Provider(config.provider),
        model=config.model,
        api_key=mask_secret(api_key(runtime, config)),
        base_url=config.base_url,
        system_prompt=config.system_prompt,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        is_active=config.is_active,
        mode=config.mode,
        n8nWebhookUrl=config.n8n_webhook_url,
        hasN8nSecret=config.n8n_secret_encrypted is not None,
        categories=[Category.model_validate(c) for c in config.categories or []],
        debounce_seconds=config.debounce_seconds,
        handoff_on_injection=config.handoff_on_injection,
        created_at=config.created_at,
        updated_at=config.updated_at,
    )


def ensure_allowed_base_url(runtime: Runtime, url: str | None, field: str = "baseUrl") -> None:
    """Refuse a base URL whose host is a private or reserved address written out (the outbound guard
    checks every resolved address again at call time)."""
    if url is None or runtime.settings.allow_private_urls:
        return
    host = httpx.URL(url).host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host.lower() in {"localhost", "localhost.localdomain"} or host.lower().endswith(".localhost"):
            raise ValidationFailed.field(field, "must not point at a private or local address") from None
        return
    if not is_public_address(address):
        raise ValidationFailed.field(field, "must not point at a private or local address")


def new_config(name: str, editor: Actor) -> BotConfig:
    return BotConfig(
        name=name,
        provider=Provider.OPENAI.value,
        model="gpt-4o-mini",
        system_prompt="",
        temperature=0.7,
        max_tokens=500,
        is_active=False,
        mode=BotMode.LLM,
        categories=[],
        debounce_seconds=2,
        handoff_on_injection=False,
        created_by_id=editor.principal.user_id,
    )


def apply_fields(runtime: Runtime, config: BotConfig, body: BotConfigFields) -> None:
    sent = body.model_fields_set
    for field in _PLAIN_FIELDS:
        if field not in sent:
            continue
        value = getattr(body, field)
        if value is None and field not in ("base_url", "n8n_webhook_url"):
            raise ValidationFailed.field(wire_name(body, field), "must not be null")
        setattr(config, field, value.value if isinstance(value, Provider) else value)
    if "categories" in sent:
        config.categories = [c.model_dump() for c in body.categories or []]
    if "api_key" in sent:
        config.api_key_encrypted = stored_secret(runtime, body.api_key, config.api_key_encrypted)
    if "n8n_secret" in sent:
        config.n8n_secret_encrypted = stored_secret(runtime, body.n8n_secret, config.n8n_secret_encrypted)
    check_endpoint(runtime, config.provider, config.base_url)
    ensure_allowed_base_url(runtime, config.n8n_webhook_url, "n8nWebhookUrl")
    if config.mode == BotMode.N8N and not config.n8n_webhook_url:
        raise ValidationFailed.field("n8nWebhookUrl", "N8N mode needs the webhook URL")


def check_endpoint(runtime: Runtime, provider: str, base_url: str | None) -> None:
    """The base URL passes the outbound rules, and LOCAL (no default base) has one."""
    ensure_allowed_base_url(runtime, base_url)
    if PROVIDERS[Provider(provider)].default_base_url is None and not base_url:
        raise ValidationFailed.field("baseUrl", "LOCAL needs the base URL of its server")


def stored_secret(runtime: Runtime, value: str | None, stored: str | None) -> str | None:
    """The stored form of a secret sent: unchanged when the masked value comes back."""
    value = (value or "").strip()
    if value.startswith(MASK):
        return stored
    return runtime.secrets.encrypt(value) if value else None


def _decrypt(runtime: Runtime, stored: str | None) -> str | None:
    return runtime.secrets.decrypt(stored) if stored else None


def _changed(session: AsyncSession, editor: Actor, action: str, config: BotConfig, **details: Any) -> None:
    publish_event(session, config.organization_id, action, {"id": config.id, "name": config.name})
    editor.record(
        session,
        action,
        target_type="bot_config",
        target_id=config.id,
        details={"name": config.name, **details},
    )
