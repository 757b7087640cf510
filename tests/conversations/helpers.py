"""An inbox to test against: an organization with a connected number, agents in teams, and
conversations made by the real webhook pipeline (or written directly, for bulk data)."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from cxinbox.models.identity import Plan, Role
from cxinbox.models.inbox import Contact, Conversation, ConversationStatus
from cxinbox.models.teams import TeamMember
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from tests.fakes.graph import FakeGraph
from tests.fixtures.factories import Factory, Member, Org
from tests.fixtures.people import make_team
from tests.whatsapp.helpers import connect_number, deliver, unique_number

_clock = itertools.count(int(time.time()) - 100_000)


@dataclass
class Inbox:
    org: Org
    account: WhatsAppAccount
    team_id: str
    agent: Member  # in the team
    other_agent: Member  # in the team too
    outsider: Member  # an agent in no team
    supervisor: Member
    runtime: Runtime
    client: httpx.AsyncClient
    contacts: dict[str, str] = field(default_factory=dict)

    @property
    def admin(self) -> Member:
        return self.org.admin

    async def customer_writes(
        self,
        text: str = "Hello",
        *,
        wa_id: str | None = None,
        name: str | None = "Customer",
        timestamp: int | None = None,
    ) -> str:
        """A customer's text message through the signed webhook; the conversation's id. Messages are
        stamped over a day ago (outside the 24-hour window) unless ``timestamp`` says otherwise."""
        wa_id = wa_id or unique_number()
        body = text_message(self.account.phone_number_id, wa_id, name, text, timestamp=timestamp)
        await deliver(self.client, self.runtime, body)
        async with self.runtime.sessionmaker() as session:
            conversation_id = await session.scalar(
                select(Conversation.id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Contact.organization_id == self.org.id, Contact.wa_id == wa_id)
                .order_by(Conversation.created_at.desc())
                .limit(1)
            )
        assert conversation_id
        return conversation_id

    async def in_team(self, text: str = "Hello", **kwargs: Any) -> str:
        """A conversation in the inbox's team queue (routing does not exist yet: set directly)."""
        conversation_id = await self.customer_writes(text, **kwargs)
        await set_fields(self.runtime, conversation_id, team_id=self.team_id)
        return conversation_id


def text_message(
    phone_number_id: str, wa_id: str, name: str | None, text: str, *, timestamp: int | None = None
) -> bytes:
    contact: dict[str, Any] = {"wa_id": wa_id}
    if name is not None:
        contact["profile"] = {"name": name}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": phone_number_id},
        "contacts": [contact],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.{uuid.uuid4().hex}",
                "timestamp": str(timestamp or next(_clock)),
                "text": {"body": text},
                "type": "text",
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": unique_number(), "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(payload).encode()


async def make_inbox(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, graph: FakeGraph
) -> Inbox:
    org = await factory.org(plan=Plan.ENTERPRISE)
    account = await connect_number(runtime, graph, org.id)
    team_id = await make_team(runtime, org.id)
    agent = await factory.member(org.id, Role.AGENT)
    other = await factory.member(org.id, Role.AGENT)
    outsider = await factory.member(org.id, Role.AGENT)
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    async with runtime.unit_of_work() as session:
        for member in (agent, other):
            session.add(TeamMember(organization_id=org.id, team_id=team_id, user_id=member.id))
    return Inbox(org, account, team_id, agent, other, outsider, supervisor, runtime, client)


async def set_fields(runtime: Runtime, conversation_id: str, **values: Any) -> None:
    async with runtime.unit_of_work() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        for name, value in values.items():
            setattr(conversation, name, value)


async def seed_conversations(
    runtime: Runtime,
    organization_id: str,
    account_id: str,
    count: int,
    *,
    start: datetime | None = None,
    **values: Any,
) -> list[str]:
    """``count`` conversations written directly (a new contact each), a minute apart in activity,
    OPEN unless ``values`` say otherwise."""
    start = start or datetime.now(UTC) - timedelta(days=30)
    values.setdefault("status", ConversationStatus.OPEN)
    ids = []
    async with runtime.unit_of_work() as session:
        for i in range(count):
            contact = Contact(organization_id=organization_id, wa_id=unique_number(), name=f"Seeded {i}")
            session.add(contact)
            await session.flush()
            at = start + timedelta(minutes=i)
            conversation = Conversation(
                organization_id=organization_id,
                contact_id=contact.id,
                whatsapp_account_id=account_id,
                last_message_at=at,
                last_inbound_at=at,
                **values,
            )
            session.add(conversation)
            await session.flush()
            ids.append(conversation.id)
    return ids


def endpoints(conversation_id: str, user_id: str, tag_id: str = "no-such-tag") -> list[tuple[str, str, Any]]:
    """Every endpoint about one conversation: (method, path, JSON body)."""
    base = f"/conversations/{conversation_id}"
    return [
        ("GET", base, None),
        ("PATCH", base, {"priority": "HIGH"}),
        ("POST", f"{base}/takeover", None),
        ("POST", f"{base}/return-to-bot", {}),
        ("POST", f"{base}/read", None),
        ("POST", f"{base}/assign", {"userId": user_id}),
        ("POST", f"{base}/unassign", None),
        ("POST", f"{base}/resolve", None),
        ("POST", f"{base}/follow-up", {"note": "call back"}),
        ("DELETE", f"{base}/follow-up", None),
        ("GET", f"{base}/contact-history", None),
        ("POST", f"{base}/re-classify", None),
        ("POST", f"{base}/re-route", None),
        ("POST", f"{base}/generate-handoff-summary", None),
        ("POST", f"{base}/tags", {"tagId": tag_id}),
        ("DELETE", f"{base}/tags/{tag_id}", None),
    ]


async def call(client: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return await client.request(method, path, json=body, headers=headers)


@dataclass
class Stream:
    """The SSE stream of one listener, read by a real HTTP client from a real server."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def types_for(self, conversation_id: str) -> list[str]:
        return [e["type"] for e in self.events if (e["data"].get("data") or {}).get("id") == conversation_id]


async def read_stream(base_url: str, headers: dict[str, str], stream: Stream, *, until: str) -> None:
    """Read ``base_url``'s event stream from the start of the organization's log until an event of
    type ``until`` arrives (the test's last action), collecting the events into ``stream``."""
    async with httpx.AsyncClient(timeout=30) as c:
        request_headers = headers | {"Last-Event-ID": "0", "Accept": "text/event-stream"}
        async with c.stream("GET", f"{base_url}/events", headers=request_headers) as response:
            assert response.status_code == 200
            current: dict[str, Any] = {}
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    current["type"] = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    current["data"] = json.loads(line.removeprefix("data:").strip())
                elif not line and "type" in current:
                    stream.events.append(current)
                    if current["type"] == until:
                        return
                    current = {}
