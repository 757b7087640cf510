"""Stored webhook events -> contacts, conversations, messages and statuses.

Every entry, change, message and status is handled; message changes are routed by
``metadata.phone_number_id``, account-level changes (``account_update``, quality, name, …) become
alerts (``whatsapp.alerts``). Only the numbers of the event's signature scope are touched
(``inbound.scope``): a change about any other number is skipped.

Events are processed in batches (one transaction): the new messages of
the whole batch are stored together first (``arrivals``), then what refers to messages (reactions,
edits, deletions) and the account and template changes are applied in the order they came, so a
reaction finds a message that arrived in the same batch, and last the delivery statuses of the
batch, together (``statuses``).

Processing is idempotent: a message is inserted once per wamid (insert on conflict do nothing), a
status once per wamid, status and time, and reactions, edits and deletions are applied by provider
time; so replays, duplicates and the sweeper are harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.messages.events import publish_message_updated
from cxinbox.models.inbox import Message
from cxinbox.models.whatsapp import WebhookEvent, WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.alerts.classify import ACCOUNT_FIELDS
from cxinbox.whatsapp.alerts.webhooks import record_change
from cxinbox.whatsapp.inbound import threads
from cxinbox.whatsapp.inbound.arrivals import Arrival, store_arrivals
from cxinbox.whatsapp.inbound.parse import arrival_order, parse_message, provider_time
from cxinbox.whatsapp.inbound.scope import SignatureScope
from cxinbox.whatsapp.inbound.statuses import StatusReport, record_statuses
from cxinbox.whatsapp.inbound.templates import TEMPLATE_FIELDS, record_template_change
from cxinbox.whatsapp.payload import child, items, parse_body, phone_number_ids
from cxinbox.whatsapp.repository import live_accounts_by_number

log = structlog.get_logger(__name__)

WHATSAPP_OBJECT = "whatsapp_business_account"


async def process_event(session: AsyncSession, runtime: Runtime, event_id: str) -> None:
    event = await session.get(WebhookEvent, event_id)
    if event is not None:
        await process_events(session, runtime, [event])


async def process_events(session: AsyncSession, runtime: Runtime, events: Sequence[WebhookEvent]) -> None:
    """Process stored events loaded in ``session``, oldest first (those processed already are
    skipped)."""
    pending = [e for e in events if e.processed_at is None]
    payloads = [parse_body(e.body) for e in pending]
    scopes = [SignatureScope(e) for e in pending]
    batch = _Batch(session, runtime)
    batch.accounts = await live_accounts_by_number(
        session,
        [
            n
            for p, scope in zip(payloads, scopes, strict=True)
            for n in phone_number_ids(p)
            if scope.may_cover(n)
        ],
    )
    for event, payload, scope in zip(pending, payloads, scopes, strict=True):
        batch.read(event, payload, scope)
    await store_arrivals(session, runtime, batch.arrivals)
    for apply in batch.updates:
        await apply()
    await record_statuses(session, runtime, batch.statuses)
    processed_at = utcnow()
    for event, scope in zip(pending, scopes, strict=True):
        event.organization_id = batch.routed.get(event.id, event.organization_id)
        event.processed_at = processed_at
        event.error = batch.notes.get(event.id) or scope.note


class _Batch:
    """What a batch of events asks for: new messages to store, updates to apply in order, and
    delivery statuses."""

    def __init__(self, session: AsyncSession, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime
        self.accounts: dict[str, WhatsAppAccount] = {}
        self.arrivals: list[Arrival] = []
        self.updates: list[Callable[[], Awaitable[None]]] = []
        self.statuses: list[StatusReport] = []
        #: why an event was set aside (kept in its ``error``)
        self.notes: dict[str, str] = {}
        #: the organization of an event's first routed message, set with its ``processed_at`` (one
        #: UPDATE of the event)
        self.routed: dict[str, str] = {}

    def read(self, event: WebhookEvent, payload: dict[str, Any] | None, scope: SignatureScope) -> None:
        if payload is None or payload.get("object") != WHATSAPP_OBJECT:
            self.notes[event.id] = "ignored: not a WhatsApp Business Account event"
            return
        for entry_index, entry in enumerate(items(payload, "entry")):
            for change_index, change in enumerate(items(entry, "changes")):
                value = child(change, "value")
                field = str(change.get("field") or "")
                if field in ACCOUNT_FIELDS:
                    self.updates.append(partial(self._account_change, event, scope, entry, change))
                elif field in TEMPLATE_FIELDS and entry.get("id"):
                    position = entry_index * 1000 + change_index
                    self.updates.append(
                        partial(
                            record_template_change,
                            self.session,
                            event,
                            str(entry["id"]),
                            field,
                            value,
                            position,
                            scope.admits_account,
                        )
                    )
                elif field == "messages":
                    self._messages(event, scope, value)
                # other fields stay stored for the areas that will read them

    async def _account_change(
        self, event: WebhookEvent, scope: SignatureScope, entry: dict[str, Any], change: dict[str, Any]
    ) -> None:
        routed = await record_change(self.session, entry, change, scope.admits_account)
        event.organization_id = event.organization_id or next(iter(routed), None)

    def _messages(self, event: WebhookEvent, scope: SignatureScope, value: dict[str, Any]) -> None:
        number = str(child(value, "metadata").get("phone_number_id") or "")
        if not number:
            return  # names no number: nothing to route
        account = self.accounts.get(number)
        if not scope.admits(number, account):
            return
        if account is None:
            return  # an unknown number: the event stays stored, unrouted
        if event.organization_id is None:
            self.routed.setdefault(event.id, account.organization_id)
        profiles = {str(c.get("wa_id")): c for c in items(value, "contacts") if c.get("wa_id")}
        updates = MessageUpdates(self.session, self.runtime, account.organization_id)
        # message types that change an earlier message instead of adding one
        update_of = {"reaction": updates.reaction, "edit": updates.edit, "revoke": updates.revoke}
        for msg in items(value, "messages"):
            update = update_of.get(str(msg.get("type")))
            if update is not None:
                self.updates.append(partial(update, msg))
            else:
                self._arrival(event, account, msg, profiles)
        self.statuses += [(account.organization_id, status) for status in items(value, "statuses")]

    def _arrival(
        self, event: WebhookEvent, account: WhatsAppAccount, msg: dict[str, Any], profiles: dict[str, Any]
    ) -> None:
        wamid = msg.get("id")
        sender = str(msg.get("from") or msg.get("from_user_id") or "")
        if not wamid or not sender:
            log.warning("whatsapp_message_without_id_or_sender", organization_id=account.organization_id)
            return
        at = provider_time(msg.get("timestamp"))
        self.arrivals.append(
            Arrival(
                sender=threads.Sender(account, sender, profiles.get(sender), simulated=event.simulated),
                wamid=str(wamid),
                parsed=parse_message(msg),
                at=at,
                ordered_at=arrival_order(at, event.received_at),
                simulated=event.simulated,
            )
        )


class MessageUpdates:
    """Reactions, edits and deletions of earlier messages of one organization."""

    def __init__(self, session: AsyncSession, runtime: Runtime, organization_id: str) -> None:
        self.session = session
        self.runtime = runtime
        self.org_id = organization_id

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
        await publish_message_updated(self.session, self.runtime, target)

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
        await publish_message_updated(self.session, self.runtime, target)

    async def revoke(self, msg: dict[str, Any]) -> None:
        content = child(msg, "revoke")
        target = await self._target(content.get("original_message_id"))
        if target is None:
            log.info("whatsapp_revoke_target_unknown", organization_id=self.org_id)
            return
        target.deleted_at = target.deleted_at or provider_time(msg.get("timestamp"))
        await publish_message_updated(self.session, self.runtime, target)

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
