"""Automatic replies to a customer who writes while the organization cannot answer: the off-hours
reply (once per conversation per closed period) and the maintenance message (once per conversation
per activation of maintenance mode). Maintenance takes precedence: a customer gets one of them.

A reply is claimed with an insert-on-conflict-do-nothing of its ``AutoReply`` row (conversation,
kind, period), so two workers handling the same customer's messages send it once. The channel
that took the message sends the text (as SYSTEM, through its outbound pipeline).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.db import insert_new
from cxinbox.core.tenancy import TenantContext
from cxinbox.core.wire import iso_utc
from cxinbox.models.inbox import Conversation
from cxinbox.models.routing import AutoReply, AutoReplyKind, RoutingSettings
from cxinbox.routing.business_hours import business_status
from cxinbox.routing.repository import RoutingSettingsRepository

#: the period of a closed spell that never ends (no opening hours at all)
NEVER = "never"


async def settings_of(session: AsyncSession, organization_id: str) -> RoutingSettings:
    return await RoutingSettingsRepository(session, TenantContext.system(organization_id)).current()


async def in_maintenance(session: AsyncSession, organization_id: str) -> bool:
    """While maintenance mode is on the bot does not run (routing still applies)."""
    return (await settings_of(session, organization_id)).maintenance_mode


def _due(settings: RoutingSettings, at: datetime) -> tuple[AutoReplyKind, str, str] | None:
    if settings.maintenance_mode and settings.maintenance_message and settings.maintenance_since:
        return AutoReplyKind.MAINTENANCE, iso_utc(settings.maintenance_since), settings.maintenance_message
    if settings.off_hours_auto_reply and settings.off_hours_message:
        status = business_status(settings, at)
        if not status.is_open:
            period = iso_utc(status.next_change) if status.next_change else NEVER
            return AutoReplyKind.OFF_HOURS, period, settings.off_hours_message
    return None


async def claim_reply(session: AsyncSession, conversation: Conversation, at: datetime) -> str | None:
    """The text to send the customer now, if one is due and not sent before in this period."""
    due = _due(await settings_of(session, conversation.organization_id), at)
    if due is None:
        return None
    kind, period, text = due
    claimed = await insert_new(
        session,
        AutoReply,
        organization_id=conversation.organization_id,
        conversation_id=conversation.id,
        kind=kind,
        period=period,
    )
    return text if claimed else None
