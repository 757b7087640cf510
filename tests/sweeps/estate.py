"""An organization with one of everything a path id can name, and a snapshot of all it owns.

The tenancy sweep builds two of these: the caller's (whose own ids tell a role refusal apart from a
lookup) and the target's (whose ids the caller must never reach, and whose snapshot must not change).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Table, select

import cxinbox.models  # noqa: F401  (registers every table on the metadata)
from cxinbox.core.clock import utcnow
from cxinbox.models.base import Base
from cxinbox.models.bot_shadow_runs import ShadowRun, ShadowRunStatus
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.identity import LoginCode, Organization, RefreshToken, User
from cxinbox.models.inbox import Contact, Conversation, Message
from cxinbox.models.whatsapp import AccountAlert, AlertSeverity
from cxinbox.runtime import Runtime
from tests.fakes.graph import FakeGraph
from tests.fakes.smtp import SmtpServer
from tests.fixtures.api import create_api_key
from tests.fixtures.factories import Factory, unique_email
from tests.fixtures.inbox import Inbox, make_inbox
from tests.fixtures.wait import eventually
from tests.sweeps.bodies import PDF
from tests.templates.helpers import meta_says

#: tables derived from others by a periodic job: their rows move on their own (the conversations,
#: messages and bot sessions, turns and ratings they count are compared instead; the analytics
#: slots and the bot metrics' days are folded every 5 s)
DERIVED_TABLES = frozenset(
    {
        "conversation_counts",
        "conversation_count_changes",
        "analytics_slot_counts",
        "analytics_slot_changes",
        "bot_metric_days",
        "bot_metric_day_changes",
    }
)


@dataclass
class Estate:
    """One organization's inbox plus the ids of each kind of thing a route can name."""

    inbox: Inbox
    ids: dict[str, str] = field(default_factory=dict)
    api_key: dict[str, str] = field(default_factory=dict)

    @property
    def organization_id(self) -> str:
        return self.inbox.org.id

    def callers(self) -> dict[str, dict[str, str]]:
        """The credentials of each kind of caller of this organization."""
        return {
            "ADMIN": self.inbox.admin.headers,
            "SUPERVISOR": self.inbox.supervisor.headers,
            "AGENT": self.inbox.agent.headers,
            "API_KEY": self.api_key,
        }


def _created(response: httpx.Response) -> str:
    assert response.status_code in (200, 201), response.text
    return str(response.json()["data"]["id"])


async def build_estate(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, graph: FakeGraph, smtp: SmtpServer
) -> Estate:
    """An organization with a connected number, a team, people of each role, a conversation in the
    team with its contact and message, a tag on it, a quick reply with media, a template with a
    (scheduled) campaign, an invitation, an API key, an account alert, a bot turn (its trace), a
    shadow run, a team schedule, and the automation areas' things (a bot config with an intent, a
    document and a media file, a connection with a tool and a data source, a routing rule); made
    through the API where one exists."""
    inbox = await make_inbox(client, runtime, factory, graph)
    admin = inbox.admin.headers
    estate = Estate(inbox)
    conversation_id = await inbox.in_team("Hello from the sweep")
    async with runtime.sessionmaker() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        contact = await session.get_one(Contact, conversation.contact_id)
        message_id = await session.scalar(
            select(Message.id).where(Message.conversation_id == conversation_id)
        )
    assert message_id
    tag_id = _created(
        await client.post("/tags", json={"name": f"sweep {uuid.uuid4().hex[:6]}"}, headers=admin)
    )
    r = await client.post(f"/conversations/{conversation_id}/tags", json={"tagId": tag_id}, headers=admin)
    assert r.status_code in (200, 201), r.text
    reply = {"title": "Sweep", "shortcut": f"/sweep{uuid.uuid4().hex[:6]}", "content": "Hello!"}
    quick_reply_id = _created(await client.post("/quick-replies", json=reply, headers=admin))
    r = await client.post(
        f"/quick-replies/{quick_reply_id}/media", files={"file": ("card.pdf", PDF)}, headers=admin
    )
    assert r.status_code == 200, r.text
    template = {
        "name": f"sweep_{uuid.uuid4().hex[:8]}",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hello from the sweep"}],
    }
    r = await client.post("/templates", json=template, headers=admin)
    template_id = _created(r)
    await meta_says(client, runtime, inbox.account.waba_id, r.json()["data"], "APPROVED")
    campaign = {
        "name": "Sweep campaign",
        "templateId": template_id,
        "recipients": [{"phone": "+5511999990000"}],
        "scheduledAt": (utcnow() + timedelta(days=1)).isoformat(),  # stays as it is during the sweep
    }
    campaign_id = _created(await client.post("/campaigns", json=campaign, headers=admin))
    invitee = unique_email("invitee")
    invitation_id = _created(await client.post("/invitations", json={"email": invitee}, headers=admin))
    await smtp.wait_for(invitee)
    key = await create_api_key(client, admin, name="sweep")
    estate.api_key = {"X-API-Key": key["key"]}
    r = await client.put(f"/teams/{inbox.team_id}/schedule", json={"timezone": "UTC"}, headers=admin)
    assert r.status_code == 200, r.text
    automation = await _build_automation(client, admin, inbox.team_id)
    async with runtime.unit_of_work() as session:
        alert = AccountAlert(
            organization_id=inbox.org.id,
            whatsapp_account_id=inbox.account.id,
            type="SWEEP",
            severity=AlertSeverity.WARNING,
            title="A sweep alert",
            message="Raised by the tenancy sweep",
            details={},
            source_key=uuid.uuid4().hex,
        )
        session.add(alert)
        turn = BotTurn(
            organization_id=inbox.org.id,
            conversation_id=conversation_id,
            message_id=message_id,
            state=TurnState.DONE,
            decision=TurnDecision.REPLIED,
            trace={"llmCalls": [], "decision": "REPLIED", "latencyMs": 0},
        )
        session.add(turn)
        shadow_run = ShadowRun(
            organization_id=inbox.org.id,
            bot_config_id=automation["bot_config"],
            active_config_id=automation["bot_config"],
            status=ShadowRunStatus.DONE,
            turn_ids=[],
            report={},
        )
        session.add(shadow_run)
        await session.flush()
        alert_id, trace_id, shadow_run_id = alert.id, turn.id, shadow_run.id
    estate.ids = {
        "conversation": conversation_id,
        "message": message_id,
        "contact": contact.wa_id,
        "tag": tag_id,
        "team": inbox.team_id,
        "member": inbox.agent.id,
        "user": inbox.other_agent.id,
        "invitation": invitation_id,
        "quick_reply": quick_reply_id,
        "api_key": key["id"],
        "account": inbox.account.id,
        "alert": alert_id,
        "trace": trace_id,
        "shadow_run": shadow_run_id,
        "template": template_id,
        "template_name": template["name"],
        "campaign": campaign_id,
        **automation,
    }
    return estate


async def _build_automation(client: httpx.AsyncClient, admin: dict[str, str], team_id: str) -> dict[str, str]:
    """The bot's config (with a prompt version, a preset and a snapshot), an intent, a document and a
    media file, a connection with a tool and a data source, and a routing rule."""
    bot = {
        "provider": "OPENAI",
        "model": "gpt-4o-mini",
        "apiKey": f"sk-sweep-{uuid.uuid4().hex}",
        "systemPrompt": "You are the sweep's bot.",
    }
    r = await client.put("/bot-config", json=bot, headers=admin)
    assert r.status_code == 200, r.text
    bot_config_id = str(r.json()["data"]["id"])
    r = await client.get("/bot-config/prompt-versions", headers=admin)
    prompt_version_id = str(r.json()["data"][0]["id"])
    preset = {"name": "sweep", "provider": "OPENAI", "model": "gpt-4o-mini", "apiKey": "sk-sweep-preset"}
    preset_id = _created(await client.post("/bot-config/presets", json=preset, headers=admin))
    snapshot_id = _created(await client.post("/bot-config/snapshots", json={"name": "sweep"}, headers=admin))
    intent_id = _created(
        await client.post("/bot-config/intents", json={"name": "hours", "response": "9 to 5"}, headers=admin)
    )
    document = ("faq.txt", b"Opening hours: nine to five, Monday to Friday.", "text/plain")
    r = await client.post("/bot-config/documents", files={"file": document}, headers=admin)
    document_id = _created(r)
    connection = {"name": "Sweep API", "baseUrl": "https://api.example.com/v1"}
    connection_id = _created(await client.post("/connections", json=connection, headers=admin))
    tool = {
        "name": "order_status",
        "description": "Look up an order",
        "parameters": {"type": "object", "properties": {"orderId": {"type": "string"}}},
        "connectionId": connection_id,
        "path": "/orders/{{params.orderId}}",
    }
    tool_id = _created(await client.post("/tools", json=tool, headers=admin))
    source = {
        "name": "Sweep account",
        "connectionId": connection_id,
        "path": "/customers?phone={{phone10}}",
        "fields": [{"label": "Name", "path": "data[0].name"}],
    }
    data_source_id = _created(await client.post("/inbox-data-sources", json=source, headers=admin))
    media = ("menu.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")
    bot_media_id = _created(await client.post("/bot-config/media", files={"file": media}, headers=admin))
    rule = {
        "name": "sweep",
        "teamId": team_id,
        "conditions": [{"field": "messageText", "operator": "contains", "value": "sweep"}],
    }
    rule_id = _created(await client.post("/routing-rules", json=rule, headers=admin))
    return {
        "bot_config": bot_config_id,
        "prompt_version": prompt_version_id,
        "preset": preset_id,
        "snapshot": snapshot_id,
        "intent": intent_id,
        "document": document_id,
        "connection": connection_id,
        "tool": tool_id,
        "data_source": data_source_id,
        "bot_media": bot_media_id,
        "routing_rule": rule_id,
    }


def _row(mapping: Any) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((key, repr(value)) for key, value in dict(mapping).items()))


async def snapshot(runtime: Runtime, organization_id: str) -> dict[str, Any]:
    """Every row the organization owns (each tenant table, its own row, its users' sessions and
    codes) and every stored file under its id, as comparable values."""
    state: dict[str, Any] = {}
    async with runtime.sessionmaker() as session:
        users = select(User.id).where(User.organization_id == organization_id).scalar_subquery()
        tables: list[tuple[str, Any]] = [
            ("organizations", select(Organization.__table__).where(Organization.id == organization_id)),
            ("refresh_tokens", select(RefreshToken.__table__).where(RefreshToken.user_id.in_(users))),
            ("login_codes", select(LoginCode.__table__).where(LoginCode.user_id.in_(users))),
        ]
        for table in Base.metadata.sorted_tables:
            if "organization_id" in table.c and table.name not in DERIVED_TABLES:
                tenant: Table = table
                tables.append((table.name, select(tenant).where(tenant.c.organization_id == organization_id)))
        for name, query in tables:
            rows = (await session.execute(query)).mappings().all()
            state[name] = sorted(_row(row) for row in rows)
    root = runtime.settings.data_dir / "files"
    state["files"] = sorted(
        (str(path.relative_to(root)), hashlib.sha256(path.read_bytes()).hexdigest())
        for path in root.rglob("*")
        if path.is_file() and organization_id in path.parts
    )
    return state


async def settled_snapshot(runtime: Runtime, organization_id: str) -> dict[str, Any]:
    """The snapshot once the organization's background work (mails, jobs) has stopped changing it:
    two reads in a row agree."""
    seen: list[dict[str, Any]] = [{}]

    async def stable() -> bool:
        seen.append(await snapshot(runtime, organization_id))
        return seen[-1] == seen[-2]

    await eventually(stable, "the organization's data stops changing")
    return seen[-1]
