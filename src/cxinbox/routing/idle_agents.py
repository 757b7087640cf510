"""Idle agents: an ONLINE agent with a HUMAN_HANDLING conversation whose customer has waited for an
answer longer than ``idleMinutes`` (the conversation still needs action) is idle. The action sets
them AWAY, releases those conversations back to their queue (where auto-assignment finds them
another agent), or both; each idle agent gets an audit entry and the changes publish their events.
A periodic job runs it every minute for organizations that turned it on; ``/run`` runs it now.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.service import record_system
from cxinbox.conversations import changes
from cxinbox.conversations.assignment import release
from cxinbox.conversations.timeline import SYSTEM
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import job
from cxinbox.core.scheduler import periodic
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.identity import Presence, User
from cxinbox.models.inbox import Conversation, ConversationStatus
from cxinbox.models.routing import IdleAction, RoutingSettings
from cxinbox.routing.business_hours import business_status
from cxinbox.routing.schemas import IdleRunOut
from cxinbox.runtime import Runtime
from cxinbox.users.service import publish_user

REASON = "idle_agent"
SETS_AWAY = (IdleAction.SET_AWAY, IdleAction.BOTH)
RELEASES = (IdleAction.RELEASE, IdleAction.BOTH)


async def detect(
    session: AsyncSession, runtime: Runtime, settings: RoutingSettings, at: datetime
) -> IdleRunOut:
    organization_id = settings.organization_id
    online = list(
        await session.scalars(
            select(User).where(
                User.organization_id == organization_id,
                User.status == Presence.ONLINE,
                User.is_active.is_(True),
                User.deleted_at.is_(None),
            )
        )
    )
    if settings.idle_only_business_hours and not business_status(settings, at).is_open:
        return IdleRunOut(checked=len(online), idle_agents=[], released=0)
    cutoff = at - timedelta(minutes=settings.idle_minutes)
    waiting = await session.scalars(
        select(Conversation).where(
            Conversation.organization_id == organization_id,
            Conversation.assigned_to_id.in_([u.id for u in online]),
            Conversation.status == ConversationStatus.HUMAN_HANDLING,
            Conversation.needs_action.is_(True),
            Conversation.last_inbound_at < cutoff,
        )
    )
    by_agent: dict[str, list[Conversation]] = defaultdict(list)
    for conversation in waiting:
        by_agent[conversation.assigned_to_id or ""].append(conversation)
    released = 0
    for user in online:
        held = by_agent.get(user.id)
        if not held:
            continue
        if settings.idle_action in SETS_AWAY:
            user.status = Presence.AWAY
            await publish_user(session, runtime, TenantContext.system(organization_id), "user.updated", user)
        if settings.idle_action in RELEASES:
            for conversation in held:
                await changes.apply(session, conversation, release, SYSTEM, REASON)
                released += 1
        record_system(
            session,
            organization_id,
            "routing.idle_agent",
            target_type="user",
            target_id=user.id,
            details={"action": settings.idle_action.value, "conversationIds": [c.id for c in held]},
        )
    return IdleRunOut(checked=len(online), idle_agents=sorted(by_agent), released=released)


@periodic(every_seconds=60)
@job("routing.detect_idle_agents", attempts=1)
async def detect_idle_agents(runtime: Runtime, session: AsyncSession) -> None:
    """Every organization that turned idle-agent detection on, one unit of work each."""
    async with runtime.read_session(current=True) as reader:
        organization_ids = list(
            await reader.scalars(
                select(RoutingSettings.organization_id).where(RoutingSettings.idle_enabled.is_(True))
            )
        )
    for organization_id in organization_ids:
        async with runtime.unit_of_work() as work:
            settings = await work.scalar(
                select(RoutingSettings).where(RoutingSettings.organization_id == organization_id)
            )
            if settings is not None and settings.idle_enabled:
                await detect(work, runtime, settings, utcnow())
