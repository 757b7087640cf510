"""``/dev/simulate/*``: simulated traffic through the real webhook pipeline, and its cleanup."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cxinbox.config import Settings
from cxinbox.models.identity import Role
from cxinbox.models.inbox import Conversation, ConversationOrigin, Message, MessageStatus
from cxinbox.models.whatsapp import TemplateEvent, WebhookEvent
from tests.fixtures.people import error_code, events_of
from tests.fixtures.sending import make_thread
from tests.fixtures.whatsapp import connect_number, deliver, eventually, for_number, sample


@pytest.fixture
async def org(runtime, graph, factory):
    org = await factory.org()
    org.account = await connect_number(runtime, graph, org.id)
    return org


async def count(runtime, model, *where) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_simulate_conversation_goes_through_the_webhook_pipeline(client, runtime, org):
    r = await client.post(
        "/dev/simulate/conversation",
        json={"phone": "+15550001234", "name": "Sim Customer", "text": "Hello from the simulator"},
        headers=org.admin.headers,
    )
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["conversation"]["contact"]["name"] == "Sim Customer"
    assert data["conversation"]["contact"]["waId"] == "15550001234"
    message = data["message"]
    assert (message["text"], message["simulated"], message["direction"]) == (
        "Hello from the simulator",
        True,
        "INBOUND",
    )
    async with runtime.sessionmaker() as session:
        event = await session.get_one(WebhookEvent, data["webhookEventId"])
    assert event.simulated and event.processed_at and event.organization_id == org.id
    assert b"whatsapp_business_account" in event.body
    [created] = await events_of(runtime, org.id, "message.created")
    assert created["id"] == message["id"]
    listed = await client.get(
        f"/conversations/{data['conversation']['id']}/messages", headers=org.admin.headers
    )
    assert [m["id"] for m in listed.json()["data"]] == [message["id"]]


async def test_simulations_never_rename_a_contact(client, org):
    first = await client.post(
        "/dev/simulate/conversation", json={"phone": "+15550004321"}, headers=org.admin.headers
    )
    assert first.status_code == 201, first.text
    contact = first.json()["data"]["conversation"]["contact"]
    profile_name = contact["name"]
    assert profile_name and contact["profileName"] == profile_name
    for _ in range(3):
        again = await client.post(
            "/dev/simulate/conversation", json={"phone": "+15550004321"}, headers=org.admin.headers
        )
        assert again.json()["data"]["conversation"]["contact"]["name"] == profile_name
    r = await client.patch("/contacts/15550004321", json={"name": "Edited"}, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    conversation_id = first.json()["data"]["conversation"]["id"]
    r = await client.post(
        "/dev/simulate/message", json={"conversationId": conversation_id}, headers=org.admin.headers
    )
    assert (
        r.json()["data"]["conversation"]["contact"]["name"],
        r.json()["data"]["conversation"]["contact"]["profileName"],
    ) == ("Edited", profile_name)


async def test_an_empty_body_is_enough(client, org):
    r = await client.post("/dev/simulate/conversation", headers=org.admin.headers)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["message"]["text"]


async def test_batch_and_message(client, runtime, org):
    r = await client.post("/dev/simulate/batch", json={"count": 3}, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    batch = r.json()["data"]
    assert len(batch["conversations"]) == 3 and len(batch["messages"]) == 3
    conversation_id = batch["conversations"][0]["id"]
    r = await client.post(
        "/dev/simulate/message",
        json={"conversationId": conversation_id, "text": "One more thing"},
        headers=org.admin.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["conversation"]["id"] == conversation_id
    assert r.json()["data"]["conversation"]["unreadCount"] == 2
    assert await count(runtime, Message, Message.organization_id == org.id) == 4


async def test_simulated_conversations_can_be_answered(client, runtime, graph, org):
    """A simulated customer message opens the service window like a real one; the reply is
    simulated too: recorded as sent, never posted to the Graph API (its customer does not exist)."""
    r = await client.post("/dev/simulate/conversation", headers=org.admin.headers)
    conversation = r.json()["data"]["conversation"]
    assert conversation["origin"] == "SIMULATED"
    reply = await client.post(
        f"/conversations/{conversation['id']}/messages",
        json={"type": "text", "text": "Hi!"},
        headers=org.admin.headers,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["data"]["simulated"] is True

    async def sent() -> Message | None:
        async with runtime.sessionmaker() as session:
            message = await session.get_one(Message, reply.json()["data"]["id"])
        return message if message.status == MessageStatus.SENT else None

    message = await eventually(sent)
    assert message.wa_message_id.startswith("wamid.simulated.")
    assert graph.sent_by(org.account.phone_number_id) == []


async def test_real_conversations_are_not_simulated(client, runtime, org):
    await deliver(client, runtime, for_number(sample("message.json", "text"), org.account.phone_number_id))
    async with runtime.sessionmaker() as session:
        [origin] = await session.scalars(
            select(Conversation.origin).where(Conversation.organization_id == org.id)
        )
    assert origin == ConversationOrigin.INBOUND


async def test_template_status_is_recorded(client, runtime, org):
    body = {"templateName": "order_update", "event": "REJECTED", "reason": "INVALID_FORMAT"}
    r = await client.post("/dev/simulate/template-status", json=body, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    event = r.json()["data"]
    assert (event["templateName"], event["event"], event["reason"]) == (
        "order_update",
        "REJECTED",
        "INVALID_FORMAT",
    )
    assert (event["field"], event["wabaId"], event["simulated"]) == (
        "message_template_status_update",
        org.account.waba_id,
        True,
    )


async def test_real_template_webhooks_are_recorded_too(client, runtime, org):
    payload = sample("template_status_update.json", "approved")
    payload["entry"][0]["id"] = org.account.waba_id
    await deliver(client, runtime, for_number(payload, org.account.phone_number_id))
    async with runtime.sessionmaker() as session:
        [event] = await session.scalars(select(TemplateEvent).where(TemplateEvent.organization_id == org.id))
    assert (event.template_name, event.event, event.simulated) == ("order_confirmation", "APPROVED", False)


async def test_cleanup_removes_only_simulated_data(client, runtime, graph, factory, org):
    await client.post("/dev/simulate/batch", json={"count": 2}, headers=org.admin.headers)
    await client.post(
        "/dev/simulate/template-status",
        json={"templateName": "t", "event": "APPROVED"},
        headers=org.admin.headers,
    )
    real = await make_thread(runtime, graph, org, account=org.account)
    simulated_in_real = await client.post(
        "/dev/simulate/message", json={"conversationId": real.id}, headers=org.admin.headers
    )
    other_org = await factory.org()
    other = await connect_number(runtime, graph, other_org.id)
    await client.post(
        "/dev/simulate/conversation", json={"whatsappAccountId": other.id}, headers=other_org.admin.headers
    )

    r = await client.request("DELETE", "/dev/simulate/cleanup", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"conversations": 2, "messages": 3, "contacts": 2, "templateEvents": 1}
    async with runtime.sessionmaker() as session:
        remaining = set(
            await session.scalars(select(Conversation.id).where(Conversation.organization_id == org.id))
        )
        messages = set(await session.scalars(select(Message.id).where(Message.organization_id == org.id)))
    assert remaining == {real.id}
    assert messages == {real.inbound.id}
    assert simulated_in_real.json()["data"]["message"]["id"] not in messages
    assert await count(runtime, Message, Message.organization_id == other_org.id) == 1
    deleted = await events_of(runtime, org.id, "conversation.deleted")
    assert len(deleted) == 2


async def test_dev_endpoints_are_off_in_production(client, runtime, org, monkeypatch):
    assert Settings(env="production", secret_key="k" * 32, mail_disabled=True).dev_endpoints is False
    monkeypatch.setattr(runtime.settings, "dev_endpoints", False)
    for method, path in [
        ("POST", "/dev/simulate/conversation"),
        ("POST", "/dev/simulate/batch"),
        ("POST", "/dev/simulate/message"),
        ("POST", "/dev/simulate/template-status"),
        ("DELETE", "/dev/simulate/cleanup"),
    ]:
        r = await client.request(method, path, json={}, headers=org.admin.headers)
        assert r.status_code == 404, path
        assert (await client.request(method, path, json={})).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("POST", "/dev/simulate/conversation", {}),
        ("POST", "/dev/simulate/batch", {}),
        ("POST", "/dev/simulate/message", {"conversationId": "x"}),
        ("POST", "/dev/simulate/template-status", {"templateName": "t", "event": "APPROVED"}),
        ("DELETE", "/dev/simulate/cleanup", None),
    ],
)
async def test_admins_only(client, factory, org, method, path, json):
    assert (await client.request(method, path, json=json)).status_code == 401
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.request(method, path, json=json, headers=agent.headers)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"


@pytest.mark.parametrize(
    ("path", "json"),
    [
        ("/dev/simulate/batch", {"count": 0}),
        ("/dev/simulate/batch", {"count": 51}),
        ("/dev/simulate/conversation", {"phone": "not a phone"}),
        ("/dev/simulate/message", {}),
        ("/dev/simulate/template-status", {"templateName": "t", "event": "GREAT"}),
        ("/dev/simulate/template-status", {"event": "APPROVED"}),
    ],
)
async def test_validation(client, org, path, json):
    r = await client.post(path, json=json, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


async def test_other_organizations_and_missing_accounts(client, runtime, graph, factory, org):
    real = await make_thread(runtime, graph, org, account=org.account)
    stranger = await factory.org()
    r = await client.post(
        "/dev/simulate/message", json={"conversationId": real.id}, headers=stranger.admin.headers
    )
    assert r.status_code == 404
    r = await client.post(
        "/dev/simulate/conversation",
        json={"whatsappAccountId": org.account.id},
        headers=stranger.admin.headers,
    )
    assert r.status_code == 404
    r = await client.post("/dev/simulate/conversation", headers=stranger.admin.headers)
    assert r.status_code == 409 and error_code(r) == "NO_WHATSAPP_ACCOUNT"
