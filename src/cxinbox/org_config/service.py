"""Rules of an organization's settings. Changes are written to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.admin.stats import active_totals
from cxinbox.audit.request import Actor
from cxinbox.core.cache import TimedValue
from cxinbox.core.clock import utcnow
from cxinbox.core.db import after_commit
from cxinbox.core.errors import NotFound
from cxinbox.core.ids import new_id
from cxinbox.core.tenancy import TenantContext
from cxinbox.files.service import file_url
from cxinbox.models.identity import Organization
from cxinbox.models.organization_settings import OrganizationSettings
from cxinbox.org_config.logo import check_logo
from cxinbox.org_config.repository import OrganizationSettingsRepository, PublicOrganizationRepository
from cxinbox.org_config.schemas import BotMode, Branding, PublicPlatformStats, UpdateBotMode, UpdateBranding
from cxinbox.runtime import Runtime

PLATFORM_NAME = "CX Inbox"
PLATFORM_STATS_TTL_SECONDS = 60
_platform_stats: TimedValue[PublicPlatformStats] = TimedValue(PLATFORM_STATS_TTL_SECONDS)

#: the toggles of ``/config/<path>`` and the settings column each one stores
TOGGLES = {
    "auto-categorize": "auto_categorize",
    "bot-enabled": "bot_enabled",
    "media-auto-display": "media_auto_display",
}
_BOT_MODE_COLUMNS = {
    "outside_hours_only": "bot_outside_hours_only",
    "handoff_on_request": "bot_handoff_on_request",
    "handles_reopened": "bot_handles_reopened",
}


def _settings_of(session: AsyncSession, editor: Actor) -> OrganizationSettingsRepository:
    return OrganizationSettingsRepository(session, editor.principal.tenant)


def _record(session: AsyncSession, editor: Actor, row: OrganizationSettings, changes: dict[str, Any]) -> None:
    editor.record(
        session,
        "config.updated",
        target_type="organization_settings",
        target_id=row.organization_id,
        details={"changes": changes},
    )


# ---- branding ----------------------------------------------------------------------------------


def _branding(runtime: Runtime, org: Organization, row: OrganizationSettings) -> Branding:
    logo = file_url(runtime, row.logo_key) if row.logo_key else row.logo_url
    return Branding(
        organization_id=org.id,
        client_id=org.slug,
        company_name=row.company_name or org.name,
        company_logo_url=logo,
        whatsapp_phone=row.whatsapp_phone,
        primary_color=row.primary_color,
    )


def platform_branding() -> Branding:
    return Branding(
        organization_id=None,
        client_id=None,
        company_name=PLATFORM_NAME,
        company_logo_url=None,
        whatsapp_phone=None,
        primary_color=None,
    )


async def _organization(session: AsyncSession, tenant: TenantContext) -> Organization:
    org = await session.get(Organization, tenant.organization_id)
    if org is None:
        raise NotFound("Organization not found")
    return org


async def branding(session: AsyncSession, runtime: Runtime, tenant: TenantContext) -> Branding:
    row = await OrganizationSettingsRepository(session, tenant).current()
    return _branding(runtime, await _organization(session, tenant), row)


async def public_branding(session: AsyncSession, runtime: Runtime, client_id: str | None) -> Branding:
    """Branding by ``clientId`` (an organization's slug, or its id); the platform's without one."""
    if not client_id:
        return platform_branding()
    org = await PublicOrganizationRepository(session).by_client_id(client_id)
    if org is None:
        raise NotFound("Unknown clientId")
    return await branding(session, runtime, TenantContext.system(org.id))


def _drop_stored_logo(session: AsyncSession, runtime: Runtime, row: OrganizationSettings) -> None:
    """Forget the uploaded logo; its file is deleted once the change is committed."""
    key = row.logo_key
    if key:
        row.logo_key = None
        after_commit(session, lambda: runtime.storage.delete(key))


async def update_branding(
    session: AsyncSession, runtime: Runtime, editor: Actor, body: UpdateBranding
) -> Branding:
    row = await _settings_of(session, editor).for_update()
    changes = body.model_dump(exclude_unset=True)
    if "company_logo_url" in changes:
        _drop_stored_logo(session, runtime, row)
        row.logo_url = changes.pop("company_logo_url")
    if "company_name" in changes:
        changes["company_name"] = (changes["company_name"] or "").strip() or None
    for field, value in changes.items():
        setattr(row, field, value)
    await session.flush()
    _record(
        session, editor, row, {"branding": body.model_dump(mode="json", exclude_unset=True, by_alias=True)}
    )
    return _branding(runtime, await _organization(session, editor.principal.tenant), row)


async def set_logo(session: AsyncSession, runtime: Runtime, editor: Actor, data: bytes) -> Branding:
    content_type, extension = check_logo(data)
    row = await _settings_of(session, editor).for_update()
    key = f"public/logos/{row.organization_id}/{new_id()}.{extension}"
    await runtime.storage.save(key, data, content_type)
    _drop_stored_logo(session, runtime, row)
    row.logo_key, row.logo_url = key, None
    await session.flush()
    _record(session, editor, row, {"logo": "uploaded", "contentType": content_type, "size": len(data)})
    return _branding(runtime, await _organization(session, editor.principal.tenant), row)


async def remove_logo(session: AsyncSession, runtime: Runtime, editor: Actor) -> Branding:
    row = await _settings_of(session, editor).for_update()
    _drop_stored_logo(session, runtime, row)
    row.logo_url = None
    await session.flush()
    _record(session, editor, row, {"logo": "removed"})
    return _branding(runtime, await _organization(session, editor.principal.tenant), row)


# ---- toggles and bot mode ----------------------------------------------------------------------


async def toggle(session: AsyncSession, tenant: TenantContext, name: str) -> bool:
    row = await OrganizationSettingsRepository(session, tenant).current()
    return bool(getattr(row, TOGGLES[name]))


async def set_toggle(session: AsyncSession, editor: Actor, name: str, enabled: bool) -> bool:
    row = await _settings_of(session, editor).for_update()
    setattr(row, TOGGLES[name], enabled)
    await session.flush()
    _record(session, editor, row, {name: enabled})
    return enabled


def _bot_mode(row: OrganizationSettings) -> BotMode:
    return BotMode(**{flag: getattr(row, column) for flag, column in _BOT_MODE_COLUMNS.items()})


async def bot_mode(session: AsyncSession, tenant: TenantContext) -> BotMode:
    return _bot_mode(await OrganizationSettingsRepository(session, tenant).current())


async def update_bot_mode(session: AsyncSession, editor: Actor, body: UpdateBotMode) -> BotMode:
    row = await _settings_of(session, editor).for_update()
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    for flag, value in changes.items():
        setattr(row, _BOT_MODE_COLUMNS[flag], value)
    await session.flush()
    _record(
        session, editor, row, {"botMode": body.model_dump(mode="json", exclude_unset=True, by_alias=True)}
    )
    return _bot_mode(row)


# ---- public platform statistics ----------------------------------------------------------------


async def public_platform_stats(runtime: Runtime) -> PublicPlatformStats:
    """Computed at most once a minute per process, in its own short unit of work."""

    async def compute() -> PublicPlatformStats:
        async with runtime.unit_of_work() as session:
            organizations, users = await active_totals(session)
        return PublicPlatformStats(organizations=organizations, users=users, generated_at=utcnow())

    return await _platform_stats.get(compute)
