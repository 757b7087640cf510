"""Where the bot meets the inbound pipeline: whether a conversation a customer opens starts with the
bot (``BOT_HANDLING``) instead of being routed, and the turn a customer's messages schedule.

A new conversation starts with the bot when the organization's ``bot-enabled`` toggle is on, it has
an active config and maintenance mode is off (maintenance keeps the bot out; routing applies), and
its bot-mode flags agree: ``outsideHoursOnly`` takes only conversations opened outside business
hours, and without ``handlesReopened`` a returning contact (one with an earlier conversation) goes
to the humans. Conversations the business opens (a template first) never start with the bot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.bot import turn
from cxinbox.bot.auto_categorize import classify_later
from cxinbox.bot.setup import BotSetup, setup_of
from cxinbox.conversations import timeline
from cxinbox.conversations.timeline import SYSTEM
from cxinbox.core.jobs import DebouncedRun, enqueue_debounced_many
from cxinbox.models.inbox import Conversation, ConversationOrigin, ConversationStatus, TimelineKind
from cxinbox.routing.auto_replies import settings_of
from cxinbox.routing.business_hours import business_status

REASON = "BOT"
#: a burst that never pauses still gets its turn after this many quiet windows
MAX_WAIT_WINDOWS = 5
_TAKEN_BY = (ConversationOrigin.INBOUND, ConversationOrigin.SIMULATED)


@dataclass
class BotEntry:
    """Reads each organization's setup once for a batch of inbound messages, and which of the
    conversations the batch ``opening`` are a returning contact's once (if a setup asks)."""

    session: AsyncSession
    at: datetime
    opening: Collection[Conversation] = ()
    _setups: dict[str, BotSetup] = field(default_factory=dict)
    _returning: set[str] | None = None

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
        if not setup.settings.bot_handles_reopened and await self.returning(conversation):
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

    async def returning(self, conversation: Conversation) -> bool:
        """The contact had a conversation on this number before ``conversation``: read for all of
        ``opening`` at the first question (a conversation the caller did not list, on its own)."""
        if conversation not in self.opening:
            return conversation.id in await _returning(self.session, [conversation])
        if self._returning is None:
            self._returning = await _returning(self.session, self.opening)
        return conversation.id in self._returning

    async def opened(self, conversation: Conversation) -> None:
        """A conversation a customer just opened is classified after the commit (``auto-categorize``)."""
        setup = await self.setup(conversation.organization_id)
        if setup.settings.auto_categorize and setup.config is not None and setup.config.categories:
            classify_later(self.session, conversation.id)

    async def customer_wrote(self, conversations: Iterable[Conversation]) -> None:
        """Schedule the turn of each conversation of the bot a customer just wrote in, once per
        burst of messages (the config's ``debounceSeconds``): one statement for them all."""
        turns: dict[str, float] = {}
        for conversation in conversations:
            if conversation.status is not ConversationStatus.BOT_HANDLING:
                continue
            setup = await self.setup(conversation.organization_id)
            turns[conversation.id] = setup.config.debounce_seconds if setup.config is not None else 0
        await schedule_turns(self.session, turns)


async def schedule_turn(session: AsyncSession, conversation_id: str, delay: float = 0) -> None:
    await schedule_turns(session, {conversation_id: delay})


async def schedule_turns(session: AsyncSession, delays: Mapping[str, float]) -> None:
    """The bot's turn in each conversation of ``delays``, debounced by that many seconds."""
    await enqueue_debounced_many(
        session,
        turn.run_turn,
        (
            DebouncedRun(
                conversation_id, {"conversation_id": conversation_id}, delay, delay * MAX_WAIT_WINDOWS
            )
            for conversation_id, delay in delays.items()
        ),
    )


async def _returning(session: AsyncSession, conversations: Collection[Conversation]) -> set[str]:
    """Those of ``conversations`` (stored) whose contact has another conversation on this number."""
    if not conversations:
        return set()
    contacts = await session.execute(
        select(Conversation.organization_id, Conversation.contact_id)
        .where(
            Conversation.organization_id.in_({c.organization_id for c in conversations}),
            Conversation.contact_id.in_({c.contact_id for c in conversations}),
        )
        .group_by(Conversation.organization_id, Conversation.contact_id)
        .having(func.count() > 1)
    )
    returning = {(row.organization_id, row.contact_id) for row in contacts}
    return {c.id for c in conversations if (c.organization_id, c.contact_id) in returning}
