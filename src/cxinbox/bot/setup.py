"""What decides, for one organization, whether and how the bot answers: its active config and the
organization's toggles (``bot-enabled``, ``auto-categorize``, the bot-mode flags)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload

from cxinbox.bot import mind_cache
from cxinbox.bot.sessions import OPEN
from cxinbox.bot.turn_claims import latest_customer_message_id
from cxinbox.bot.usage import period_of
from cxinbox.core.clock import utcnow
from cxinbox.models.bot import BotConfig, BotUsage
from cxinbox.models.bot_sessions import BotSession
from cxinbox.models.identity import Organization
from cxinbox.models.inbox import Conversation, Message
from cxinbox.models.organization_settings import OrganizationSettings
from cxinbox.models.routing import RoutingSettings
from cxinbox.models.whatsapp import WhatsAppAccount


@dataclass(frozen=True)
class BotSetup:
    config: BotConfig | None
    settings: OrganizationSettings
    #: a turn's: the conversation's WhatsApp account, in the turn's session (``mind_cache.seed_account``:
    #: the reply reads it there without a statement), held here so that the session keeps it
    account: WhatsAppAccount | None = None

    @property
    def enabled(self) -> bool:
        return self.config is not None and self.settings.bot_enabled


async def setup_of(session: AsyncSession, organization_id: str) -> BotSetup:
    """The organization's setup as it is now (read, not ``mind_cache``'s: its caller may have
    changed it in its transaction)."""
    config, settings = await mind_cache.config_and_settings(session, organization_id)
    return BotSetup(config, settings or OrganizationSettings.with_defaults(organization_id))


@dataclass(frozen=True)
class TurnSetup:
    """What a turn reads before it claims: its conversation (with its contact, the reply's
    recipient), the customer's latest message (None: none yet), the setup, the organization (its
    plan's limits), whether maintenance mode is on, the bot's replies this month and the summary an
    agent left when returning the conversation to the bot (while the session that opened lasts)."""

    conversation: Conversation
    message: Message | None
    setup: BotSetup
    organization: Organization
    maintenance: bool
    replies_this_month: int
    handoff_summary: str | None


async def turn_setup_of(session: AsyncSession, conversation_id: str) -> TurnSetup | None:
    """All of ``TurnSetup`` of one conversation (``turn_setups_of``); None when it does not exist."""
    return (await turn_setups_of(session, [conversation_id])).get(conversation_id)


async def turn_setups_of(session: AsyncSession, conversation_ids: list[str]) -> dict[str, TurnSetup]:
    """All of ``TurnSetup`` of each conversation, by id, in one statement for all of them (every
    turn reads all of it: it was seven per turn), what rarely changes from ``mind_cache`` at the
    organization's ``bot_revision`` that statement reads; a conversation that does not exist is
    left out."""
    params = {"conversation_ids": list(set(conversation_ids)), "period": period_of(utcnow())}
    found = {}
    for row in (await session.execute(_TURN_SETUP, params)).unique():
        conversation, message, organization, revision, maintenance, replies, summary = row
        standing = await mind_cache.standing_of(session, organization.id, revision)
        account = await mind_cache.seed_account(session, standing, conversation.whatsapp_account_id)
        setup = BotSetup(standing.config, standing.settings, account)
        found[conversation.id] = TurnSetup(
            conversation, message, setup, organization, bool(maintenance), replies or 0, summary
        )
    return found


def _turn_setup() -> Any:
    """The statement of ``turn_setups_of``, built once (building it costs more than running it)."""
    org = Conversation.organization_id
    return (
        select(
            Conversation,
            Message,
            Organization,
            # a column, not the loaded organization's attribute: read as it is now
            Organization.bot_revision,
            RoutingSettings.maintenance_mode,
            BotUsage.bot_replies,
            BotSession.handoff_summary,
        )
        # the conversation's tags and assignee are not read (two more statements): what publishes
        # the conversation reloads it whole
        .options(
            joinedload(Conversation.contact),
            raiseload(Conversation.tags),
            raiseload(Conversation.assigned_to),
        )
        .join(Organization, Organization.id == org)
        .outerjoin(Message, Message.id == latest_customer_message_id())
        .outerjoin(RoutingSettings, RoutingSettings.organization_id == org)
        .outerjoin(BotUsage, (BotUsage.organization_id == org) & (BotUsage.period == bindparam("period")))
        .outerjoin(BotSession, (BotSession.conversation_id == Conversation.id) & OPEN)
        .where(Conversation.id.in_(bindparam("conversation_ids", expanding=True)))
    )


_TURN_SETUP = _turn_setup()
