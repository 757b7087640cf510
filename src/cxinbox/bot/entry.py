"""Where the bot meets the inbound pipeline: whether a conversation a customer opens starts with the
bot (``BOT_HANDLING``) instead of being routed, and the turn a customer's messages schedule.

A new conversation starts with the bot when the organization's ``bot-enabled`` toggle is on, it has
an active config and maintenance mode is off (maintenance keeps the bot out; routing applies), and
its bot-mode flags agree: ``outsideHoursOnly`` takes only conversations opened outside business
hours, and without ``handlesReopened`` a returning contact (one with an earlier conversation) goes
to the humans. Conversations the business opens (a template first) never start with the bot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.bot import turn
from cxinbox.bot.auto_categorize import classify_later
from cxinbox.bot.setup import BotSetup, setup_of
from cxinbox.conversations import timeline
from cxinbox.conversations.timeline import SYSTEM
from cxinbox.core.jobs import enqueue_debounced
from cxinbox.models.inbox import Conversation, ConversationOrigin, ConversationStatus, TimelineKind
from cxinbox.routing.auto_replies import settings_of
from cxinbox.routing.business_hours import business_status

REASON = "BOT"
#: a burst that never pauses still gets its turn after this many quiet windows
MAX_WAIT_WINDOWS = 5
_TAKEN_BY = (ConversationOrigin.INBOUND, ConversationOrigin.SIMULATED)


@dataclass
class BotEntry:
    """Reads each organization's setup once for a batch of inbound messages."""

    session: AsyncSession
    at: datetime
    _setups: dict[str, BotSetup] = field(default_factory=dict)

    async def setup(self, organization_id: str) -> BotSetup:
        if organization_id not in self._setups:
            self._setups[organization_id] = await setup_of(self.session, organization_id)
        return self._setups[organization_id]

    async def takes(self, conversation: Conversation) -> bool:
        """For a conversation the caller has just opened and holds locked: the bot takes it (its
        status is set in place, with a timeline entry); else the caller routes it."""
        if conversation.origin not in _TAKEN_BY:
            return False
        setup = await self.setup(conversation.organization_id)
        if not setup.enabled:
            return False
        routing = await settings_of(self.session, conversation.organization_id)
        if routing.maintenance_mode:
            return False
        if setup.settings.bot_outside_hours_only and business_status(routing, self.at).is_open:
            return False
        if not setup.settings.bot_handles_reopened and await _returning(self.session, conversation):
            return False
        conversation.status = ConversationStatus.BOT_HANDLING
        timeline.record(
            self.session,
            conversation.organization_id,
            conversation.id,
            TimelineKind.STATUS,
            ConversationStatus.OPEN.value,
            ConversationStatus.BOT_HANDLING.value,
            SYSTEM,
            REASON,
        )
        return True

    async def opened(self, conversation: Conversation) -> None:
        """A conversation a customer just opened is classified after the commit (``auto-categorize``)."""
        setup = await self.setup(conversation.organization_id)
        if setup.settings.auto_categorize and setup.config is not None and setup.config.categories:
            classify_later(self.session, conversation.id)

    async def customer_wrote(self, conversations: Iterable[Conversation]) -> None:
        """Schedule the turn of each conversation of the bot a customer just wrote in, once per
        burst of messages (the config's ``debounceSeconds``)."""
        for conversation in conversations:
            if conversation.status is not ConversationStatus.BOT_HANDLING:
                continue
            setup = await self.setup(conversation.organization_id)
            delay = setup.config.debounce_seconds if setup.config is not None else 0
            await schedule_turn(self.session, conversation.id, delay)


async def schedule_turn(session: AsyncSession, conversation_id: str, delay: float = 0) -> None:
    await enqueue_debounced(
        session,
        turn.run_turn,
        key=conversation_id,
        delay=delay,
        max_wait=delay * MAX_WAIT_WINDOWS,
        conversation_id=conversation_id,
    )


async def _returning(session: AsyncSession, conversation: Conversation) -> bool:
    """The contact had a conversation on this number before this one."""
    earlier = await session.scalar(
        select(Conversation.id)
        .where(
            Conversation.organization_id == conversation.organization_id,
            Conversation.contact_id == conversation.contact_id,
            Conversation.id != conversation.id,
        )
        .limit(1)
    )
    return earlier is not None
