"""A stream outlives the request that opened it, so its listener's standing is checked again at
every heartbeat: once the user is deactivated or deleted, the organization blocked, the API key
revoked or expired, or the role or teams (what the listener may see) changed, the stream closes.

Closing rather than narrowing the view keeps one rule for visibility: a listener whose rights
changed reconnects (EventSource does so by itself, from the position it reached) and gets the
view of its new rights; one whose credential is gone is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.credentials import reload_principal
from cxinbox.auth.principal import Principal
from cxinbox.core.errors import AppError
from cxinbox.models.teams import Team, TeamMember
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Standing:
    """What a listener's view depends on: who it is, and a person's active teams."""

    role: str
    organization_id: str | None
    user_id: str | None
    api_key_id: str | None
    scopes: frozenset[str] | None
    team_ids: frozenset[str]


async def standing_of(session: AsyncSession, principal: Principal) -> Standing:
    team_ids: frozenset[str] = frozenset()
    if principal.user_id is not None:
        team_ids = frozenset(
            await session.scalars(
                select(TeamMember.team_id)
                .join(Team, Team.id == TeamMember.team_id)
                .where(TeamMember.user_id == principal.user_id, Team.is_active.is_(True))
            )
        )
    return Standing(
        role=principal.role.value,
        organization_id=principal.organization_id,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        scopes=principal.scopes,
        team_ids=team_ids,
    )


async def _still_stands(runtime: Runtime, principal: Principal, opened: Standing) -> bool:
    try:
        async with runtime.sessionmaker() as session:
            return await standing_of(session, await reload_principal(session, principal)) == opened
    except AppError:  # refused as a new request would be
        return False
    except Exception:  # cannot tell (e.g. the database is away): close; the client reconnects
        log.warning("stream_standing_unknown", exc_info=True)
        return False


async def _watch(
    runtime: Runtime, principal: Principal, opened: Standing, changed: asyncio.Event, ended: asyncio.Event
) -> None:
    """Check at every heartbeat until the standing changed or the stream ``ended``. Never cancelled
    in the middle of a check (a task cancelled while waiting for SQLite's write gate may leave it
    taken): told that the stream ended, it finishes its check and returns."""
    while True:
        try:
            await asyncio.wait_for(ended.wait(), runtime.settings.sse_heartbeat_seconds)
            return
        except TimeoutError:
            pass
        if not await _still_stands(runtime, principal, opened):
            changed.set()
            return


#: running watchers, referenced until they end (the event loop keeps only weak references)
_WATCHERS: set[asyncio.Task[None]] = set()


async def while_standing(
    runtime: Runtime,
    principal: Principal,
    opened: Standing,
    open_stream: Callable[[asyncio.Event], AsyncGenerator[dict[str, Any] | bytes]],
) -> AsyncIterator[dict[str, Any] | bytes]:
    """The stream ``open_stream(changed)`` makes, with ``changed`` set once the listener's standing
    differs from ``opened`` (checked every heartbeat); the stream ends itself when it is set."""
    changed, ended = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(_watch(runtime, principal, opened, changed, ended))
    _WATCHERS.add(watcher)
    watcher.add_done_callback(_WATCHERS.discard)
    try:
        async with contextlib.aclosing(open_stream(changed)) as stream:
            async for item in stream:
                yield item
    finally:
        ended.set()
