"""A turn of an N8N config: the customer's turn posted to the organization's ``n8nWebhookUrl`` as
``{conversationId, message, contact, history}``, signed with ``X-Signature-256: sha256=<HMAC-SHA256
of the raw body keyed with n8nSecret>``, through the outbound guard. The workflow answers later
through ``POST /n8n/bot-response`` (``bot.n8n``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import LlmError
from cxinbox.bot.transcript import recent_messages
from cxinbox.core.outbound import OutboundClient, OutboundError
from cxinbox.core.wire import iso_utc
from cxinbox.models.bot import BotConfig
from cxinbox.models.inbox import Conversation, Message
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.signature import sign

#: messages of the conversation sent as ``history``, the most recent
HISTORY = 20
TIMEOUT_SECONDS = 15.0
MAX_ANSWER_BYTES = 64 * 1024


class N8nFailed(LlmError):
    """The workflow could not be reached, or did not accept the turn (a provider failure, for the
    turn's retries and handoff)."""

    reason = "N8N_ERROR"


class N8nUnavailable(N8nFailed):
    retryable = True


@dataclass(frozen=True)
class Delivery:
    url: str
    body: bytes
    signature: str


async def prepare(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, message: Message, config: BotConfig
) -> Delivery:
    if not config.n8n_webhook_url or not config.n8n_secret_encrypted:
        raise N8nFailed("The N8N config has no webhook URL or secret")
    contact = conversation.contact
    payload: dict[str, Any] = {
        "conversationId": conversation.id,
        "message": _message(message),
        "contact": {"id": contact.id, "name": contact.name, "phone": contact.phone, "waId": contact.wa_id},
        "history": [_message(m) for m in await recent_messages(session, conversation, HISTORY)],
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    secret = runtime.secrets.decrypt(config.n8n_secret_encrypted)
    return Delivery(config.n8n_webhook_url, body, sign(secret, body))


async def post(runtime: Runtime, delivery: Delivery) -> int:
    """Post the turn; the workflow's status (2xx), or ``N8nFailed`` (retryable when it may pass)."""
    try:
        async with OutboundClient(
            allow_private=runtime.settings.allow_private_urls, timeout=TIMEOUT_SECONDS
        ) as http:
            response = await http.request(
                "POST",
                delivery.url,
                content=delivery.body,
                headers={"Content-Type": "application/json", "X-Signature-256": delivery.signature},
                max_bytes=MAX_ANSWER_BYTES,
            )
    except OutboundError as exc:
        failure = N8nUnavailable if exc.retryable else N8nFailed
        raise failure(f"The N8N webhook could not be reached: {exc}") from exc
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise N8nUnavailable(f"The N8N webhook answered {response.status_code}")
    if not response.is_success:
        raise N8nFailed(f"The N8N webhook answered {response.status_code}")
    return response.status_code


def _message(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "senderType": message.sender_type.value,
        "type": message.type.value.lower(),
        "text": message.text or (message.media or {}).get("caption"),
        "at": iso_utc(message.ordered_at),
    }
