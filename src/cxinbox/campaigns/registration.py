"""What the campaigns area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.campaigns import dispatch  # noqa: F401 - its @job/@periodic register the dispatcher
from cxinbox.campaigns.following import follow_messages, follow_replies
from cxinbox.campaigns.usage import created_this_month
from cxinbox.messages.hooks import on_customer_replied, on_outbound_changed
from cxinbox.models.identity import Role
from cxinbox.plans.limits import CAMPAIGNS, register_usage
from cxinbox.realtime.visibility import EventPredicate, register_event_filter

CAMPAIGN_EVENTS = "campaign."


async def readers(_session: AsyncSession, principal: Principal) -> EventPredicate:
    """Campaign progress is for those who read campaigns: admins and supervisors."""
    allowed = principal.has_role(Role.ADMIN, Role.SUPERVISOR)
    return lambda _event: allowed


def register() -> None:
    register_event_filter(CAMPAIGN_EVENTS, readers)
    register_usage(CAMPAIGNS)(created_this_month)
    on_outbound_changed(follow_messages)
    on_customer_replied(follow_replies)
