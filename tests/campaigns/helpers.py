"""Campaigns to test with: an approved template with two body values, recipients, and waiting for
the dispatcher through the API."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx

from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from tests.fakes.graph import FakeGraph
from tests.fixtures.factories import Member, update_rows
from tests.fixtures.inbox import Inbox
from tests.fixtures.wait import eventually
from tests.templates.helpers import approved

VALUES = {"body": ["customer", "A-1"]}


def phones(count: int, prefix: str = "55119") -> list[str]:
    """``count`` distinct Brazilian mobile numbers, in E.164."""
    start = random.randint(10_000_000, 80_000_000)
    return [f"+{prefix}{start + i}" for i in range(count)]


async def template(
    inbox: Inbox, client: httpx.AsyncClient, runtime: Runtime, category: str = "UTILITY"
) -> str:
    name = f"notice_{random.randint(0, 10**9)}"
    found = await approved(client, runtime, inbox.account.waba_id, inbox.admin, name, category=category)
    return str(found["id"])


async def create(
    client: httpx.AsyncClient, member: Member, template_id: str, numbers: list[str], **extra: Any
) -> dict[str, Any]:
    body = {
        "name": "Shipping notice",
        "templateId": template_id,
        "recipients": [{"phone": p} for p in numbers],
        "variables": VALUES,
        **extra,
    }
    r = await client.post("/campaigns", json=body, headers=member.headers)
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


async def campaign(client: httpx.AsyncClient, member: Member, campaign_id: str) -> dict[str, Any]:
    r = await client.get(f"/campaigns/{campaign_id}", headers=member.headers)
    assert r.status_code == 200, r.text
    return dict(r.json()["data"])


async def until(
    client: httpx.AsyncClient, member: Member, campaign_id: str, what: str, check: Any
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def holds() -> bool:
        seen.update(await campaign(client, member, campaign_id))
        return bool(check(seen))

    await eventually(holds, what)
    return seen


def sends_per_number(graph: FakeGraph, account: WhatsAppAccount) -> Counter[str]:
    return Counter(
        str(s["to"]) for s in graph.sent_by(account.phone_number_id) if s.get("type") == "template"
    )


async def set_tier(runtime: Runtime, account: WhatsAppAccount, tier: str) -> None:
    await update_rows(runtime, WhatsAppAccount, WhatsAppAccount.id == account.id, messaging_limit_tier=tier)
