"""Sending an APPROVED template, by name, to a conversation or to a phone number.

The values are checked against the template before anything is written (count, non-empty, Meta's
lengths and spacing rules), so a wrong send never reaches Graph. The message (type ``template``,
with the text the customer reads) goes through the inbox's outbound pipeline: outbox, governor,
delivery. A template is what may be sent once the 24-hour window is closed.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.conversations.changes import reopen_for_reply
from cxinbox.conversations.events import publish_conversation
from cxinbox.conversations.repository import visible_conversation
from cxinbox.conversations.summary import reload
from cxinbox.conversations.timeline import Actor
from cxinbox.core.errors import NotFound, ValidationFailed
from cxinbox.core.validation import wa_id_of
from cxinbox.messages import idempotency
from cxinbox.messages.idempotency import Answer
from cxinbox.messages.sending import sender_of
from cxinbox.messages.service import envelope
from cxinbox.models.inbox import Conversation, MessageType
from cxinbox.models.templates import MessageTemplate
from cxinbox.runtime import Runtime
from cxinbox.templates import components as parts
from cxinbox.templates.media import link_for_handle
from cxinbox.templates.repository import TemplateRepository
from cxinbox.templates.schemas import SendTemplate, SendTemplateToPhone, TemplateVariables
from cxinbox.templates.service import account_for
from cxinbox.whatsapp.inbound.threads import Sender as ThreadSender
from cxinbox.whatsapp.inbound.threads import resolve_threads
from cxinbox.whatsapp.outbound import compose


async def send_to_conversation(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    name: str,
    body: SendTemplate,
    key: str | None,
) -> Answer:
    async def work() -> Answer:
        conversation = await visible_conversation(session, principal, body.conversation_id)
        account_id = conversation.whatsapp_account_id
        template = await _approved(session, principal, account_id, name, body.language)
        message = await outgoing(session, runtime, template, body.variables)
        conversation = await reopen_for_reply(session, conversation, Actor.of(principal))
        return await _queue(session, runtime, principal, conversation, message)

    request = idempotency.fingerprint("template", name, body.model_dump_json())
    return await idempotency.once(session, principal.tenant, key, request, work)


async def send_to_phone(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    name: str,
    body: SendTemplateToPhone,
    key: str | None,
) -> Answer:
    """To the contact's open conversation on the number, or a new one (origin OUTBOUND, waiting for
    the customer, assigned to the sender)."""

    async def work() -> Answer:
        wa_id = _wa_id(body.phone)
        account = await account_for(session, principal, body.whatsapp_account_id)
        template = await _approved(session, principal, account.id, name, body.language)
        message = await outgoing(session, runtime, template, body.variables)
        sender = ThreadSender(account, wa_id, business_first=True)
        thread = (await resolve_threads(session, [sender]))[account.id, wa_id]
        conversation = thread.conversation
        if thread.opened:
            conversation.assigned_to_id = principal.user_id
            await session.flush()
            publish_conversation(session, await reload(session, conversation.id), "conversation.created")
        return await _queue(session, runtime, principal, conversation, message)

    request = idempotency.fingerprint("template-to-phone", name, body.model_dump_json())
    return await idempotency.once(session, principal.tenant, key, request, work)


def _wa_id(phone: str) -> str:
    number = wa_id_of(phone)
    if number is None:
        raise ValidationFailed.field("phone", "an international number, e.g. +5511999990000")
    return number


async def _approved(
    session: AsyncSession, principal: Principal, account_id: str, name: str, language: str | None
) -> MessageTemplate:
    """The APPROVED template of that name on the number's business account, in ``language`` or
    in the only language it has."""
    found = await TemplateRepository(session, principal.tenant).approved_named(account_id, name)
    if language is not None:
        found = [t for t in found if t.language == language]
    if not found:
        raise NotFound("No APPROVED template with this name (and language) on this WhatsApp account")
    if len(found) > 1:
        languages = ", ".join(t.language for t in found)
        raise ValidationFailed.field("language", f"the template has several languages: {languages}")
    return found[0]


async def outgoing(
    session: AsyncSession, runtime: Runtime, template: MessageTemplate, values: TemplateVariables
) -> compose.Outgoing:
    """The template with ``values`` as a message to queue; 400 naming the variable that does not fit."""
    slots = parts.slots_of(template.components)
    header_text = None if slots.media_header else values.header
    parts.check_values(slots, header_text, values.body, values.buttons)
    graph_components: list[dict[str, Any]] = []
    if slots.media_header:
        link = await _media_link(session, runtime, template, values.header)
        kind = slots.media_header.lower()
        graph_components.append({"type": "header", "parameters": [{"type": kind, kind: {"link": link}}]})
    elif header_text is not None:
        graph_components.append({"type": "header", "parameters": [{"type": "text", "text": header_text}]})
    if values.body:
        graph_components.append(
            {"type": "body", "parameters": [{"type": "text", "text": v} for v in values.body]}
        )
    for index, value in zip(slots.buttons, values.buttons, strict=True):
        graph_components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": str(index),
                "parameters": [{"type": "text", "text": value}],
            }
        )
    graph: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if graph_components:
        graph["components"] = graph_components
    return compose.Outgoing(
        type=MessageType.TEMPLATE,
        graph={"type": "template", "template": graph},
        text=parts.rendered_text(template.components, header_text, values.body),
        template_name=template.name,
        needs_window=False,
        extra={
            "template": {
                "id": template.id,
                "name": template.name,
                "language": template.language,
                "variables": values.model_dump(mode="json"),
            }
        },
    )


async def _media_link(
    session: AsyncSession, runtime: Runtime, template: MessageTemplate, given: str | None
) -> str:
    """A media header is sent by link: the one given (https only), else the file uploaded for the
    template's sample (``header-media``)."""
    if given is not None:
        if not re.fullmatch(r"https://[^\s]{1,2000}", given):
            raise ValidationFailed.field("variables.header", "a media header's value is an https link")
        return given
    header = next((c for c in template.components if c.get("type") == "HEADER"), {})
    example = header.get("example") if isinstance(header.get("example"), dict) else {}
    handles = example.get("header_handle") if isinstance(example, dict) else None
    handle = handles[0] if isinstance(handles, list) and handles and isinstance(handles[0], str) else None
    link = await link_for_handle(session, runtime, template.organization_id, handle) if handle else None
    if link is None:
        raise ValidationFailed.field(
            "variables.header", "give the header's https link (its file is not stored here)"
        )
    return link


async def _queue(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    conversation: Conversation,
    outgoing: compose.Outgoing,
) -> Answer:
    message = await compose.queue_message(session, runtime, conversation, outgoing, sender_of(principal))
    return Answer(201, envelope(runtime, message))
