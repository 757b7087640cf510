"""A stored webhook event -> contacts, conversations, messages and statuses.

Every entry, change, message and status is handled; message changes are routed by
``metadata.phone_number_id``, account-level changes (``account_update``, quality, name, …) become
alerts (``whatsapp.alerts``). Processing is idempotent: a message is inserted once per wamid (insert
on conflict do nothing), a status once per wamid, status and time, and reactions, edits and
deletions are applied by provider time; so replays, duplicates and the sweeper are harmless.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from cxinbox.conversations.changes import reopen_waiting
from cxinbox.core.clock import utcnow
from cxinbox.core.db import insert_new_row
from cxinbox.core.jobs import enqueue
from cxinbox.models.inbox import Conversation, Direction, Message, MessageStatus, SenderType
from cxinbox.models.whatsapp import WebhookEvent, WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.alerts.classify import ACCOUNT_FIELDS
from cxinbox.whatsapp.alerts.webhooks import record_change
from cxinbox.whatsapp.inbound import threads
from cxinbox.whatsapp.inbound.parse import ParsedMessage, parse_message, provider_time
from cxinbox.whatsapp.inbound.statuses import record_status
from cxinbox.whatsapp.inbound.templates import TEMPLATE_FIELDS, record_template_change
from cxinbox.whatsapp.media import download_media
from cxinbox.whatsapp.payload import child, items, parse_body, phone_number_ids
from cxinbox.whatsapp.repository import live_accounts_by_number

log = structlog.get_logger(__name__)

WHATSAPP_OBJECT = "whatsapp_business_account"


async def process_event(session: AsyncSession, runtime: Runtime, event_id: str) -> None:
    event = await session.get(WebhookEvent, event_id)
    if event is not None:
        await process_stored(session, runtime, event)


async def process_stored(session: AsyncSession, runtime: Runtime, event: WebhookEvent) -> None:
    """Process a stored event loaded in ``session`` (nothing happens if it was processed)."""
    if event.processed_at is not None:
        return
    payload = parse_body(event.body)
    if payload is None or payload.get("object") != WHATSAPP_OBJECT:
        _finish(event, note="ignored: not a WhatsApp Business Account event")
        return
    accounts = await _accounts(session, phone_number_ids(payload))
    organization_id = event.organization_id  # set once, at the end (one UPDATE of the event)
    for entry_index, entry in enumerate(items(payload, "entry")):
        for change_index, change in enumerate(items(entry, "changes")):
            value = child(change, "value")
            field = str(change.get("field") or "")
            if field in ACCOUNT_FIELDS:
                routed = await record_change(session, entry, change)
                organization_id = organization_id or next(iter(routed), None)
                continue
            if field in TEMPLATE_FIELDS and entry.get("id"):
                position = entry_index * 1000 + change_index
                await record_template_change(session, event, str(entry["id"]), field, value, position)
                continue
            if field != "messages":
                continue  # other fields stay stored for the areas that will read them
            number = str(child(value, "metadata").get("phone_number_id") or "")
            account = accounts.get(number)
            if account is None:
                continue  # an unknown number: the event stays stored, unrouted
            organization_id = organization_id or account.organization_id
            await ChangeHandler(session, runtime, account, simulated=event.simulated).handle(value)
    event.organization_id = event.organization_id or organization_id
    _finish(event)


async def prefetch(session: AsyncSession, events: Collection[WebhookEvent]) -> None:
    """Read ahead what processing ``events`` in one transaction needs: the numbers' accounts, the
    senders' contacts and their open conversations (a few queries instead of some per message)."""
    payloads = [p for p in (parse_body(e.body) for e in events if e.processed_at is None) if p]
    accounts = await _accounts(session, [n for p in payloads for n in phone_number_ids(p)])
    senders: dict[str, set[str]] = defaultdict(set)
    for payload in payloads:
        for entry in items(payload, "entry"):
            for change in items(entry, "changes"):
                value = child(change, "value")
                number = str(child(value, "metadata").get("phone_number_id") or "")
                senders[number].update(str(m["from"]) for m in items(value, "messages") if m.get("from"))
    for number, wa_ids in senders.items():
        if number in accounts and wa_ids:
            await threads.prefetch(session, accounts[number], wa_ids)


async def _accounts(session: AsyncSession, numbers: Collection[str]) -> dict[str, WhatsAppAccount]:
    """The live accounts of ``numbers``, each read once per transaction."""
    known: dict[str, WhatsAppAccount | None] = session.info.setdefault(_ACCOUNTS_KEY, {})
    missing = [n for n in numbers if n not in known]
    if missing:
        found = await live_accounts_by_number(session, missing)
        known.update({n: found.get(n) for n in missing})
    return {n: a for n in numbers if (a := known[n]) is not None}


_ACCOUNTS_KEY = "inbound_accounts"


def _finish(event: WebhookEvent, note: str | None = None) -> None:
    event.processed_at = utcnow()
    event.error = note


class ChangeHandler:
    """One ``messages`` change of one number."""

    def __init__(
        self, session: AsyncSession, runtime: Runtime, account: WhatsAppAccount, *, simulated: bool = False
    ) -> None:
        self.session = session
        self.simulated = simulated
        self.runtime = runtime
        self.account = account
        self.org_id = account.organization_id

    async def handle(self, value: dict[str, Any]) -> None:
        profiles = {str(c.get("wa_id")): c for c in items(value, "contacts") if c.get("wa_id")}
        for msg in items(value, "messages"):
            await self.message(msg, profiles)
        for status in items(value, "statuses"):
            await record_status(self.session, self.runtime, self.org_id, status)

    async def message(self, msg: dict[str, Any], profiles: dict[str, dict[str, Any]]) -> None:
        kind = msg.get("type")
        if kind == "reaction":
            await self.reaction(msg)
        elif kind == "edit":
            await self.edit(msg)
        elif kind == "revoke":
            await self.revoke(msg)
        else:
            await self.new_message(msg, profiles)

    async def new_message(self, msg: dict[str, Any], profiles: dict[str, dict[str, Any]]) -> None:
        wamid = msg.get("id")
        sender = str(msg.get("from") or msg.get("from_user_id") or "")
        if not wamid or not sender:
            log.warning("whatsapp_message_without_id_or_sender", organization_id=self.org_id)
            return
        parsed = parse_message(msg)
        contact = await threads.upsert_contact(self.session, self.org_id, sender, profiles.get(sender))
        conversation, opened = await threads.open_conversation(self.session, self.account, contact)
        message = await self._insert(str(wamid), conversation, parsed, msg)
        if message is None:
            return  # this wamid was stored before: a duplicate delivery or a replay
        from_customer = parsed.sender_type is SenderType.CUSTOMER
        await threads.record_message(self.session, message, parsed.preview, from_customer=from_customer)
        if from_customer and (reopened := await reopen_waiting(self.session, conversation.id)):
            set_committed_value(conversation, "status", reopened)  # the loaded row follows the UPDATE
        threads.publish_conversation(
            self.session, conversation, "conversation.created" if opened else "conversation.updated"
        )
        threads.publish_message(self.session, self.runtime, conversation, message, "message.created")
        if parsed.media and parsed.media.get("providerMediaId"):
            enqueue(self.session, download_media, message_id=message.id)

    async def _insert(
        self, wamid: str, conversation: Conversation, parsed: ParsedMessage, msg: dict[str, Any]
    ) -> Message | None:
        """The new message (read back by the INSERT's RETURNING), or None if the wamid is known."""
        at = provider_time(msg.get("timestamp"))
        return await insert_new_row(
            self.session,
            Message,
            organization_id=self.org_id,
            conversation_id=conversation.id,
            direction=Direction.INBOUND,
            sender_type=parsed.sender_type,
            type=parsed.type,
            text=parsed.text,
            media=parsed.media,
            payload=parsed.payload,
            status=MessageStatus.RECEIVED,
            wa_message_id=wamid,
            provider_timestamp=at,
            ordered_at=at,
            context=parsed.context,
            reply_to_wa_message_id=parsed.reply_to_wa_message_id,
            referral=parsed.referral,
            error=parsed.error,
            simulated=self.simulated,
        )

    async def reaction(self, msg: dict[str, Any]) -> None:
        """A reaction attaches to its target; an empty or missing emoji removes it. The newest
        reaction (provider time) wins, so a replayed older one changes nothing."""
        content = child(msg, "reaction")
        at = provider_time(msg.get("timestamp"))
        target = await self._target(content.get("message_id"))
        if target is None:
            log.info("whatsapp_reaction_target_unknown", organization_id=self.org_id)
            return
        current = target.reaction or {}
        if current.get("at") and current["at"] > at.isoformat():
            return
        emoji = content.get("emoji") or None
        target.reaction = {"emoji": emoji, "at": at.isoformat(), "waMessageId": msg.get("id")}
        await threads.publish_message_updated(self.session, self.runtime, target)

    async def edit(self, msg: dict[str, Any]) -> None:
        content = child(msg, "edit")
        target = await self._target(content.get("original_message_id"))
        edited = child(content, "message")
        if target is None or not edited:
            log.info("whatsapp_edit_target_unknown", organization_id=self.org_id)
            return
        parsed = parse_message(edited)
        target.text = parsed.text
        if parsed.media and target.media:
            target.media = {**target.media, "caption": parsed.media.get("caption")}
        target.edited_at = provider_time(msg.get("timestamp"))
        await threads.publish_message_updated(self.session, self.runtime, target)

    async def revoke(self, msg: dict[str, Any]) -> None:
        content = child(msg, "revoke")
        target = await self._target(content.get("original_message_id"))
        if target is None:
            log.info("whatsapp_revoke_target_unknown", organization_id=self.org_id)
            return
        target.deleted_at = target.deleted_at or provider_time(msg.get("timestamp"))
        await threads.publish_message_updated(self.session, self.runtime, target)

    async def _target(self, wamid: Any) -> Message | None:
        if not wamid:
            return None
        stmt = (
            select(Message)
            .where(Message.organization_id == self.org_id, Message.wa_message_id == str(wamid))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)
