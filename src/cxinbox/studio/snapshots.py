"""Snapshots of a config at the bundle's ``config`` tier. Restoring one replaces the config's
settings and intents in place (its name, activation and keys are kept), after taking an automatic
snapshot of what it replaces. A config keeps at most ``MAX_SNAPSHOTS``: past that, the oldest
automatic snapshot goes first, then the oldest one taken by hand."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.bot import configs
from cxinbox.bot.repository import BotConfigRepository
from cxinbox.core.clock import utcnow
from cxinbox.core.repository import TenantRepository
from cxinbox.models.bot import BotConfig
from cxinbox.models.bot_studio import BotSnapshot
from cxinbox.runtime import Runtime
from cxinbox.studio.bundle.registry import Tier
from cxinbox.studio.bundle.service import check, export_bundle, write_in_place

MAX_SNAPSHOTS = 50


class SnapshotRepository(TenantRepository[BotSnapshot]):
    model = BotSnapshot
    not_found_message = "Snapshot not found"

    async def of_config(self, config_id: str) -> Sequence[BotSnapshot]:
        stmt = self.select().where(BotSnapshot.bot_config_id == config_id)
        return await self.list(stmt.order_by(BotSnapshot.created_at.desc(), BotSnapshot.id.desc()))


async def list_snapshots(
    session: AsyncSession, principal: Principal, config_id: str | None
) -> Sequence[BotSnapshot]:
    config = await configs.config_or_active(session, principal, config_id)
    return await SnapshotRepository(session, principal.tenant).of_config(config.id)


async def create(
    session: AsyncSession, runtime: Runtime, editor: Actor, config_id: str | None, name: str | None
) -> BotSnapshot:
    config = await configs.config_or_active(session, editor.principal, config_id)
    snapshot = await _take(session, runtime, editor, config, name, automatic=False)
    editor.record(
        session,
        "bot_snapshot.created",
        target_type="bot_config",
        target_id=config.id,
        details={"name": snapshot.name},
    )
    return snapshot


async def restore(session: AsyncSession, runtime: Runtime, editor: Actor, snapshot_id: str) -> BotConfig:
    tenant = editor.principal.tenant
    snapshot = await SnapshotRepository(session, tenant).get_or_404(snapshot_id)
    config = await BotConfigRepository(session, tenant).get_or_404(snapshot.bot_config_id)
    bundle = check(snapshot.bundle, tier=Tier.CONFIG)
    await _take(session, runtime, editor, config, f"Before restoring {snapshot.name}"[:100], automatic=True)
    await write_in_place(session, runtime, editor, config, bundle)
    editor.record(
        session,
        "bot_snapshot.restored",
        target_type="bot_config",
        target_id=config.id,
        details={"name": snapshot.name},
    )
    return config


async def delete(session: AsyncSession, editor: Actor, snapshot_id: str) -> None:
    repo = SnapshotRepository(session, editor.principal.tenant)
    snapshot = await repo.get_or_404(snapshot_id)
    await repo.delete(snapshot)
    await repo.flush()
    editor.record(
        session,
        "bot_snapshot.deleted",
        target_type="bot_config",
        target_id=snapshot.bot_config_id,
        details={"name": snapshot.name},
    )


async def _take(
    session: AsyncSession,
    runtime: Runtime,
    editor: Actor,
    config: BotConfig,
    name: str | None,
    *,
    automatic: bool,
) -> BotSnapshot:
    bundle = await export_bundle(session, runtime, config, Tier.CONFIG)
    snapshot = BotSnapshot(
        organization_id=config.organization_id,
        bot_config_id=config.id,
        name=name or f"{config.name} {utcnow():%Y-%m-%d %H:%M}"[:100],
        automatic=automatic,
        bundle=bundle,
        size=len(json.dumps(bundle, ensure_ascii=False).encode()),
        created_by_id=editor.principal.user_id,
    )
    session.add(snapshot)
    await session.flush()
    await _prune(session, config)
    return snapshot


async def _prune(session: AsyncSession, config: BotConfig) -> None:
    of_config = BotSnapshot.bot_config_id == config.id
    count = int(await session.scalar(select(func.count()).where(of_config)) or 0)
    if count <= MAX_SNAPSHOTS:
        return
    oldest_first = (
        select(BotSnapshot)
        .where(of_config)
        .order_by(BotSnapshot.automatic.desc(), BotSnapshot.created_at, BotSnapshot.id)
    )
    for snapshot in await session.scalars(oldest_first.limit(count - MAX_SNAPSHOTS)):
        await session.delete(snapshot)
    await session.flush()
