"""Webhook bodies shaped exactly as Meta posts them, for the simulator."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cxinbox.models.whatsapp import WhatsAppAccount

WHATSAPP_OBJECT = "whatsapp_business_account"
SAMPLE_TEXTS = (
    "Hi! Where is my order?",
    "Hello, I'd like to change my delivery address.",
    "Do you have this in a larger size?",
    "My payment went through twice, can you help?",
    "What are your opening hours?",
    "Thanks, that solved it!",
)
SAMPLE_NAMES = ("Ana Souza", "Ben Carter", "Chloé Martin", "Dev Patel", "Emma Schulz", "Farid Haddad")


@dataclass(frozen=True)
class Customer:
    wa_id: str
    name: str


def new_customer(phone: str | None = None, name: str | None = None) -> Customer:
    """A customer; without a phone, a new one in the 555 range (never a real subscriber)."""
    wa_id = phone.lstrip("+") if phone else "1555" + "".join(random.choices("0123456789", k=8))
    return Customer(wa_id, name or random.choice(SAMPLE_NAMES))


def new_wamid() -> str:
    return f"wamid.SIMULATED.{uuid.uuid4().hex}"


def text_messages(account: WhatsAppAccount, messages: list[tuple[Customer, str, str]]) -> dict[str, Any]:
    """One ``messages`` change carrying a text message per ``(customer, text, wamid)``."""
    now = str(int(time.time()))
    customers = {customer.wa_id: customer for customer, _, _ in messages}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": (account.display_phone_number or "").lstrip("+"),
            "phone_number_id": account.phone_number_id,
        },
        "contacts": [_contact(c) for c in customers.values()],
        "messages": [
            {"from": customer.wa_id, "id": wamid, "timestamp": now, "type": "text", "text": {"body": text}}
            for customer, text, wamid in messages
        ],
    }
    return _envelope(account.waba_id, "messages", value)


def _contact(customer: Customer) -> dict[str, Any]:
    """A ``contacts[]`` entry; a customer without a profile name sends no profile."""
    if not customer.name:
        return {"wa_id": customer.wa_id}
    return {"profile": {"name": customer.name}, "wa_id": customer.wa_id}


def template_status(
    account: WhatsAppAccount, name: str, event: str, template_id: str, language: str, reason: str | None
) -> dict[str, Any]:
    value = {
        "event": event,
        "message_template_id": int(template_id) if template_id.isdigit() else template_id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason or "NONE",
    }
    return _envelope(account.waba_id, "message_template_status_update", value)


def _envelope(waba_id: str, field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": WHATSAPP_OBJECT,
        "entry": [{"id": waba_id, "time": int(time.time()), "changes": [{"value": value, "field": field}]}],
    }


def sample_text() -> str:
    return random.choice(SAMPLE_TEXTS)
