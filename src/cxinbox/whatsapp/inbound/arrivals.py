"""New inbound messages of a batch of webhooks, stored together.

Whatever the size of the batch, storing its messages takes a fixed number of statements: the
wamids stored before (a duplicate delivery or a replay) are set aside in one read, the threads are
resolved at once (``threads.resolve_threads``), the messages go in one insert-on-conflict-do-nothing
that answers the rows it inserted, and the conversations' new summaries are written by one flush
(a new conversation's status or team, decided meanwhile, with it); the routing settings that the
bot's entry, routing and the auto-replies each ask for are read once per organization. Events
follow per conversation: the conversation (created or updated, as it is after the batch; when it
is new, taken by the bot, ``bot.entry``, or else routed to its team, ``routing.engine``), then
each of its new messages in order; last, the bot's turn of a conversation it handles, or else the
off-hours or maintenance reply a customer is due (``routing.auto_replies``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.bot.entry import BotEntry
from cxinbox.conversations.changes import reopen_waiting
from cxinbox.conversations.events import publish_conversation
from cxinbox.conversations.summary import absorb
from cxinbox.core.clock import utcnow
from cxinbox.core.db import insert_new_rows
from cxinbox.core.errors import Conflict
from cxinbox.core.jobs import enqueue
from cxinbox.messages.events import publish_message
from cxinbox.messages.hooks import customer_replied
from cxinbox.models.inbox import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    SenderType,
)
from cxinbox.routing.auto_replies import claim_reply
from cxinbox.routing.engine import Router
from cxinbox.routing.repository import settings_read_once
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.parse import ParsedMessage
from cxinbox.whatsapp.inbound.threads import Sender, Thread, resolve_threads
from cxinbox.whatsapp.media import download_media
from cxinbox.whatsapp.outbound import compose

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Arrival:
    """A new message read from a webhook, not stored yet."""

    sender: Sender
    wamid: str
    parsed: ParsedMessage
    at: datetime
    #: where it sorts in its conversation (``parse.arrival_order``)
    ordered_at: datetime
    simulated: bool

    @property
    def from_customer(self) -> bool:
        return self.parsed.sender_type is SenderType.CUSTOMER


async def store_arrivals(session: AsyncSession, runtime: Runtime, arrivals: list[Arrival]) -> None:
    if not arrivals:
        return
    first: dict[str, Arrival] = {}
    for arrival in arrivals:  # the same wamid twice in one batch: a delivery repeated by Meta
        first.setdefault(arrival.wamid, arrival)
    for wamid in await _stored(session, list(first)):  # a replay, maybe after its conversation closed
        del first[wamid]
    if not first:
        return
    threads = await resolve_threads(session, (a.sender for a in first.values()))

    def thread_of(arrival: Arrival) -> Thread:
        return threads[arrival.sender.account.id, arrival.sender.wa_id]

    rows = [_row(a, thread_of(a).conversation.id) for a in first.values()]
    stored = {m.wa_message_id: m for m in await insert_new_rows(session, Message, rows)}
    now = utcnow()
    new: dict[str, tuple[Thread, list[Message]]] = {}
    for arrival in first.values():
        message = stored.get(arrival.wamid)
        if message is None:
            continue
        thread = thread_of(arrival)
        absorb(thread.conversation, message, arrival.parsed.preview, from_customer=arrival.from_customer)
        thread.conversation.updated_at = now
        if arrival.from_customer:
            reopen_waiting(session, thread.conversation)
        new.setdefault(thread.conversation.id, (thread, []))[1].append(message)
    with settings_read_once(session):  # the bot's entry, routing and the auto-replies all ask
        await _follow_up(session, runtime, list(new.values()), now)


async def _follow_up(
    session: AsyncSession, runtime: Runtime, new: list[tuple[Thread, list[Message]]], now: datetime
) -> None:
    """What the stored messages set off: each conversation's events, in order, after the bot or
    routing decided where a new one goes; then the reply hooks, the bot's turns and auto-replies."""
    router = Router(session, now)
    bot = BotEntry(session, now, opening=[t.conversation for t, _ in new if t.opened])
    # the decisions read and write nothing of the conversations' summaries: a conversation opened
    # here is written once at the next flush (summary, status and team together), not once per read
    with session.no_autoflush:
        for thread, messages in new:
            if thread.opened and not await bot.takes(thread.conversation):
                text = next(
                    (m.text for m in messages if m.sender_type is SenderType.CUSTOMER and m.text), None
                )
                await router.route(thread.conversation, text=text, opened=True)
            if thread.opened:
                await bot.opened(thread.conversation)
            kind = "conversation.created" if thread.opened else "conversation.updated"
            publish_conversation(session, thread.conversation, kind)
            for message in messages:
                publish_message(session, runtime, thread.conversation, message, "message.created")
                if message.media and message.media.get("providerMediaId"):
                    enqueue(session, download_media, message_id=message.id)
    wrote = [t for t, messages in new if any(m.sender_type is SenderType.CUSTOMER for m in messages)]
    # a conversation this batch opened holds nothing of ours a customer could reply to
    await customer_replied(session, [t.conversation.id for t in wrote if not t.opened])
    await bot.customer_wrote([t.conversation for t in wrote])
    for conversation in (t.conversation for t in wrote):
        if conversation.status is not ConversationStatus.BOT_HANDLING:  # the bot answers its own
            await _auto_reply(session, runtime, conversation, now)


async def _auto_reply(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, at: datetime
) -> None:
    """The off-hours or maintenance reply, when one is due (``routing.auto_replies``); a number that
    cannot send or a closed window skips it."""
    text = await claim_reply(session, conversation, at)
    if text is None:
        return
    try:
        await compose.queue_message(
            session, runtime, conversation, compose.text_message(text), compose.Sender(SenderType.SYSTEM)
        )
    except Conflict as refused:
        log.info("auto_reply_skipped", conversation_id=conversation.id, reason=refused.code)


async def _stored(session: AsyncSession, wamids: list[str]) -> list[str]:
    """Which of ``wamids`` are stored already: their messages open no thread (the insert still
    skips any that a concurrent batch stores meanwhile)."""
    return list(await session.scalars(select(Message.wa_message_id).where(Message.wa_message_id.in_(wamids))))


def _row(arrival: Arrival, conversation_id: str) -> dict[str, Any]:
    parsed = arrival.parsed
    return {
        "organization_id": arrival.sender.account.organization_id,
        "conversation_id": conversation_id,
        "direction": Direction.INBOUND,
        "sender_type": parsed.sender_type,
        "type": parsed.type,
        "text": parsed.text,
        "media": parsed.media,
        "payload": parsed.payload,
        "status": MessageStatus.RECEIVED,
        "wa_message_id": arrival.wamid,
        "provider_timestamp": arrival.at,
        "ordered_at": arrival.ordered_at,
        "context": parsed.context,
        "reply_to_wa_message_id": parsed.reply_to_wa_message_id,
        "referral": parsed.referral,
        "error": parsed.error,
        "simulated": arrival.simulated,
    }
