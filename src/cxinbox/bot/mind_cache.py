"""What a turn reads of its organization that rarely changes, kept in the process and exact across
processes: the active config, the organization's settings, the active config's intents, the tools
offered to the bot with their connections, and the WhatsApp accounts (the reply's sender).

An entry (``Standing``) belongs to an organization's ``bot_revision``, which database triggers move
on every insert, update and delete of those tables (migration 0232), whoever writes them: another
process, another session, a cascade. The turn's first statement reads the revision
(``setup.turn_setup_of``) and takes the entry of that revision, or reads one (five statements,
once per change and process). An entry is read after its revision, never before, so what it holds
is never older than the revision the turn read.

The entry's objects are detached copies, shared by the turns of the process: read them, never
change them nor add them to a session (``seed_account`` merges a copy into the turn's session).
Credentials stay the ciphertext their rows hold. At most ``SIZE`` organizations are kept, the least
recently used dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from cxinbox.bot.repository import BotIntentRepository
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.base import Base
from cxinbox.models.bot import BotConfig, BotIntent
from cxinbox.models.identity import Organization
from cxinbox.models.organization_settings import OrganizationSettings
from cxinbox.models.tools import BotTool, Connection
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.tools.repository import ToolRepository

#: organizations whose entry a process keeps
SIZE = 1024

M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class Standing:
    """What the bot's turns of one organization read at one ``bot_revision``."""

    organization_id: str
    revision: int
    config: BotConfig | None
    settings: OrganizationSettings
    #: the active config's intents, in order (none without an active config)
    intents: tuple[BotIntent, ...]
    tools: tuple[tuple[BotTool, Connection | None], ...]
    #: by id
    accounts: Mapping[str, WhatsAppAccount]


_entries: OrderedDict[str, Standing] = OrderedDict()


async def standing_of(session: AsyncSession, organization_id: str, revision: int) -> Standing:
    """The organization's entry at ``revision`` (read in ``session`` when the process has none)."""
    found = _entries.get(organization_id)
    if found is not None and found.revision == revision:
        _entries.move_to_end(organization_id)
        return found
    read = await _read(session, organization_id, revision)
    _keep(read)
    return read


def holding(config: BotConfig) -> Standing | None:
    """The kept entry ``config`` was taken from (the turn's ``BotSetup``), None when it is no longer
    kept or ``config`` came from elsewhere (the sandbox's): then its reader reads what it needs."""
    found = _entries.get(config.organization_id)
    return found if found is not None and found.config is config else None


async def seed_account(session: AsyncSession, standing: Standing, account_id: str) -> WhatsAppAccount | None:
    """A copy of the entry's account merged into ``session``'s identity map (``session.get`` finds it
    without a statement) for as long as the caller holds it; None when the entry has no such one."""
    cached = standing.accounts.get(account_id)
    return None if cached is None else await session.merge(cached, load=False)


def forget() -> None:
    """Drop every entry (tests)."""
    _entries.clear()


def _keep(standing: Standing) -> None:
    """Keep ``standing`` unless a newer revision of its organization is kept already."""
    kept = _entries.get(standing.organization_id)
    if kept is not None and kept.revision > standing.revision:
        return
    _entries[standing.organization_id] = standing
    _entries.move_to_end(standing.organization_id)
    while len(_entries) > SIZE:
        _entries.popitem(last=False)


async def config_and_settings(
    session: AsyncSession, organization_id: str
) -> tuple[BotConfig | None, OrganizationSettings | None]:
    """The organization's active config and its settings row (each None when there is none), in
    one statement."""
    row = (await session.execute(_CONFIG_AND_SETTINGS, {"organization_id": organization_id})).one_or_none()
    return (None, None) if row is None else (row[0], row[1])


async def _read(session: AsyncSession, organization_id: str, revision: int) -> Standing:
    tenant = TenantContext.system(organization_id)
    config, settings = await config_and_settings(session, organization_id)
    intents = await BotIntentRepository(session, tenant).of_config(config.id) if config is not None else ()
    tools = await ToolRepository(session, tenant).for_bot()
    accounts = await session.scalars(
        select(WhatsAppAccount).where(WhatsAppAccount.organization_id == organization_id)
    )
    return Standing(
        organization_id,
        revision,
        _copy(config) if config is not None else None,
        _copy(settings) if settings is not None else OrganizationSettings.with_defaults(organization_id),
        tuple(_copies(intents)),
        tuple((_copy(tool), _copy(link) if link is not None else None) for tool, link in tools),
        {account.id: account for account in _copies(accounts)},
    )


def _copies(objs: Iterable[M]) -> Iterable[M]:
    return (_copy(obj) for obj in objs)


def _copy(obj: M) -> M:
    """A detached copy of a loaded row (the original stays the session's: a rollback expires it)."""
    mapper = inspect(obj).mapper
    values: dict[str, Any] = {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}
    copy = mapper.class_(**values)
    make_transient_to_detached(copy)
    return copy  # type: ignore[return-value]


#: the active config and the settings row (each None when there is none), built once
_CONFIG_AND_SETTINGS = (
    select(BotConfig, OrganizationSettings)
    .select_from(Organization)
    .outerjoin(BotConfig, (BotConfig.organization_id == Organization.id) & BotConfig.is_active.is_(True))
    .outerjoin(OrganizationSettings, OrganizationSettings.organization_id == Organization.id)
    .where(Organization.id == bindparam("organization_id"))
)
