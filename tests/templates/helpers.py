"""Templates to test with: bodies in Meta's component format, created through the API against the
fake Graph API, and Meta's template webhooks."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from cxinbox.runtime import Runtime
from tests.fixtures.factories import Member
from tests.fixtures.whatsapp import deliver

BODY = {
    "type": "BODY",
    "text": "Hi {{1}}, your order {{2}} has shipped.",
    "example": {"body_text": [["Ana", "A-1001"]]},
}
COMPONENTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Your order"},
    BODY,
    {"type": "FOOTER", "text": "Thanks"},
]


async def create(
    client: httpx.AsyncClient, member: Member, name: str = "order_shipped", **extra: Any
) -> dict[str, Any]:
    body = {"name": name, "language": "en_US", "category": "UTILITY", "components": COMPONENTS, **extra}
    r = await client.post("/templates", json=body, headers=member.headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def draft(
    client: httpx.AsyncClient, member: Member, name: str = "order_draft", **extra: Any
) -> dict[str, Any]:
    body = {"name": name, "category": "MARKETING", "components": [{}], **extra}
    r = await client.post("/templates/draft", json=body, headers=member.headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def template_webhook(waba_id: str, field: str, value: dict[str, Any]) -> bytes:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "time": int(time.time()), "changes": [{"value": value, "field": field}]}],
    }
    return json.dumps(payload).encode()


async def meta_says(
    client: httpx.AsyncClient,
    runtime: Runtime,
    waba_id: str,
    template: dict[str, Any],
    event: str,
    **more: Any,
) -> None:
    """Meta's ``message_template_status_update`` for ``template``, through the signed webhook."""
    value = {
        "event": event,
        "message_template_id": int(template["metaTemplateId"]),
        "message_template_name": template["name"],
        "message_template_language": template["language"],
        "reason": more.pop("reason", "NONE"),
        **more,
    }
    await deliver(client, runtime, template_webhook(waba_id, "message_template_status_update", value))


async def approved(
    client: httpx.AsyncClient,
    runtime: Runtime,
    waba_id: str,
    member: Member,
    name: str = "order_shipped",
    **extra: Any,
) -> dict[str, Any]:
    template = await create(client, member, name, **extra)
    await meta_says(client, runtime, waba_id, template, "APPROVED")
    return template
