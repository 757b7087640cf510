"""The simulator: webhook bodies built as Meta would post them, stored as webhook events (marked
simulated) and processed by the same pipeline as real ones, inside the request, so the answer can
show what they created. Cleanup removes what simulations created in the caller's organization."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.contacts.repository import ContactRepository
from cxinbox.conversations.events import audience
from cxinbox.conversations.repository import visible_conversation
from cxinbox.conversations.schemas import ConversationOut
from cxinbox.core.errors import Conflict
from cxinbox.core.events import publish_event
from cxinbox.core.tenancy import TenantContext
from cxinbox.dev import payloads
from cxinbox.dev.payloads import Customer
from cxinbox.dev.schemas import (
    CleanupResult,
    SimulateBatch,
    SimulateConversation,
    Simulated,
    SimulatedBatch,
    SimulateMessage,
    SimulateTemplateStatus,
    TemplateEventOut,
)
from cxinbox.messages.serializers import message_out
from cxinbox.models.inbox import Contact, Conversation, Direction, Message
from cxinbox.models.whatsapp import TemplateEvent, WebhookEvent, WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.processor import process_event
from cxinbox.whatsapp.repository import WhatsAppAccountRepository


class NoWhatsAppAccount(Conflict):
    code = "NO_WHATSAPP_ACCOUNT"
    message = "Connect a WhatsApp number first: simulated messages arrive on one"


async def _account(session: AsyncSession, tenant: TenantContext, account_id: str | None) -> WhatsAppAccount:
    repo = WhatsAppAccountRepository(session, tenant)
    if account_id:
        return await repo.get_live_or_404(account_id)
    accounts = await repo.list_live()
    if not accounts:
        raise NoWhatsAppAccount()
    return accounts[0]


async def _ingest(
    session: AsyncSession,
    runtime: Runtime,
    tenant: TenantContext,
    payload: dict[str, Any],
    account: WhatsAppAccount,
    *,
    names_number: bool,
) -> WebhookEvent:
    """Store and process a webhook body built here for ``account`` (which alone it may change)."""
    event = WebhookEvent(
        body=json.dumps(payload).encode(),
        phone_number_id=account.phone_number_id if names_number else None,
        signature_scope=[account.phone_number_id],
        organization_id=tenant.organization_id,
        simulated=True,
    )
    session.add(event)
    await session.flush()
    await process_event(session, runtime, event.id)
    return event


async def _deliver_texts(
    session: AsyncSession,
    runtime: Runtime,
    tenant: TenantContext,
    account: WhatsAppAccount,
    texts: list[tuple[Customer, str]],
) -> SimulatedBatch:
    messages = [(customer, text, payloads.new_wamid()) for customer, text in texts]
    event = await _ingest(
        session, runtime, tenant, payloads.text_messages(account, messages), account, names_number=True
    )
    rows = (
        await session.execute(
            select(Message, Conversation)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.wa_message_id.in_([wamid for _, _, wamid in messages]))
            .order_by(Message.ordered_at, Message.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    conversations = {conversation.id: conversation for _, conversation in rows}
    return SimulatedBatch(
        webhook_event_id=event.id,
        conversations=[ConversationOut.model_validate(c) for c in conversations.values()],
        messages=[message_out(runtime, message) for message, _ in rows],
    )


def _single(batch: SimulatedBatch) -> Simulated:
    return Simulated(
        webhook_event_id=batch.webhook_event_id,
        conversation=batch.conversations[0],
        message=batch.messages[0],
    )


async def _customer(
    session: AsyncSession, tenant: TenantContext, phone: str | None, name: str | None
) -> Customer:
    """The customer who writes: a known number keeps its WhatsApp profile name unless ``name`` is
    given (a simulation never renames a contact at random)."""
    if phone and not name:
        known = await ContactRepository(session, tenant).by_wa_id(phone.lstrip("+"))
        if known is not None:
            return Customer(known.wa_id, known.profile_name or "")
    return payloads.new_customer(phone, name)


async def conversation(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: SimulateConversation
) -> Simulated:
    account = await _account(session, principal.tenant, body.whatsapp_account_id)
    customer = await _customer(session, principal.tenant, body.phone, body.name)
    text = body.text or payloads.sample_text()
    return _single(await _deliver_texts(session, runtime, principal.tenant, account, [(customer, text)]))


async def batch(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: SimulateBatch
) -> SimulatedBatch:
    account = await _account(session, principal.tenant, body.whatsapp_account_id)
    texts = [(payloads.new_customer(), body.text or payloads.sample_text()) for _ in range(body.count)]
    return await _deliver_texts(session, runtime, principal.tenant, account, texts)


async def message(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: SimulateMessage
) -> Simulated:
    thread = await visible_conversation(session, principal, body.conversation_id)
    account = await _account(session, principal.tenant, thread.whatsapp_account_id)
    customer = Customer(thread.contact.wa_id, thread.contact.profile_name or "")
    text = body.text or payloads.sample_text()
    return _single(await _deliver_texts(session, runtime, principal.tenant, account, [(customer, text)]))


async def template_status(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: SimulateTemplateStatus
) -> TemplateEventOut:
    account = await _account(session, principal.tenant, body.whatsapp_account_id)
    template_id = body.template_id or str(
        int(hashlib.sha256(body.template_name.encode()).hexdigest()[:12], 16)
    )
    payload = payloads.template_status(
        account, body.template_name, body.event, template_id, body.language, body.reason
    )
    event = await _ingest(session, runtime, principal.tenant, payload, account, names_number=False)
    stored = (
        await session.scalars(
            select(TemplateEvent).where(
                TemplateEvent.webhook_event_id == event.id,
                TemplateEvent.organization_id == principal.tenant.organization_id,
            )
        )
    ).one()
    return TemplateEventOut.model_validate(stored)


async def cleanup(session: AsyncSession, principal: Principal) -> CleanupResult:
    """Delete simulated messages; a conversation goes with them unless a real customer wrote in it
    too, and a contact goes when none of its conversations is left."""
    org_id = principal.tenant.organization_id
    of_org = Message.organization_id == org_id
    touched = set(
        await session.scalars(select(Message.conversation_id).where(of_org, Message.simulated).distinct())
    )
    real = set(
        await session.scalars(
            select(Message.conversation_id)
            .where(
                of_org,
                Message.conversation_id.in_(touched),
                Message.direction == Direction.INBOUND,
                Message.simulated.is_(False),
            )
            .distinct()
        )
    )
    doomed = touched - real
    messages = await session.scalar(
        select(func.count()).where(of_org, (Message.conversation_id.in_(doomed)) | Message.simulated)
    )
    conversations = list(
        await session.scalars(
            select(Conversation).where(Conversation.id.in_(doomed), Conversation.organization_id == org_id)
        )
    )
    contact_ids = {c.contact_id for c in conversations}
    for gone in conversations:
        publish_event(session, org_id, "conversation.deleted", {"id": gone.id}, audience(gone))
    await session.execute(delete(Message).where(of_org, Message.simulated))
    await session.execute(delete(Conversation).where(Conversation.id.in_(doomed)))
    orphans = set(
        await session.scalars(
            select(Contact.id).where(
                Contact.id.in_(contact_ids), ~Contact.id.in_(select(Conversation.contact_id).distinct())
            )
        )
    )
    await session.execute(delete(Contact).where(Contact.id.in_(orphans)))
    templates = await session.execute(
        delete(TemplateEvent).where(TemplateEvent.organization_id == org_id, TemplateEvent.simulated)
    )
    await session.execute(
        delete(WebhookEvent).where(WebhookEvent.organization_id == org_id, WebhookEvent.simulated)
    )
    return CleanupResult(
        conversations=len(doomed),
        messages=int(messages or 0),
        contacts=len(orphans),
        template_events=int(templates.rowcount or 0),  # type: ignore[attr-defined]
    )
