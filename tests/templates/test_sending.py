"""Sending an APPROVED template by name: to a conversation (also once the 24-hour window closed) and
to a phone number, the values checked before Graph is called."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cxinbox.core.clock import utcnow
from tests.fixtures.inbox import make_inbox, set_fields
from tests.fixtures.people import error_code
from tests.fixtures.wait import eventually
from tests.fixtures.whatsapp import connect_number, conversations_of
from tests.templates.helpers import COMPONENTS, approved, create

BUTTONS = {
    "type": "BUTTONS",
    "buttons": [
        {"type": "QUICK_REPLY", "text": "Thanks"},
        {"type": "URL", "text": "Track", "url": "https://shop.example/track/{{1}}", "example": ["A-1"]},
    ],
}
VARIABLES = {"body": ["Ana", "A-1001"], "buttons": ["A-1001"]}


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    inbox = await make_inbox(client, runtime, factory, graph)
    await approved(client, runtime, inbox.account.waba_id, inbox.admin, components=[*COMPONENTS, BUTTONS])
    return inbox


def _sent(graph, inbox):
    return [m for m in graph.sent_by(inbox.account.phone_number_id) if m.get("type") == "template"]


async def test_send_to_a_conversation_whose_window_closed(inbox, client, graph):
    conversation_id = await inbox.in_team()
    await set_fields(inbox.runtime, conversation_id, last_inbound_at=utcnow() - timedelta(hours=25))
    r = await client.post(
        f"/conversations/{conversation_id}/messages",
        json={"type": "text", "text": "hi"},
        headers=inbox.agent.headers,
    )
    assert r.status_code == 409 and error_code(r) == "WINDOW_CLOSED", r.text
    body = {"conversationId": conversation_id, "variables": VARIABLES}
    r = await client.post("/templates/order_shipped/send", json=body, headers=inbox.agent.headers)
    assert r.status_code == 201, r.text
    message = r.json()["data"]
    assert (message["type"], message["senderType"], message["status"]) == ("template", "AGENT", "PENDING")
    assert message["text"] == "Your order\n\nHi Ana, your order A-1001 has shipped.\n\nThanks"
    await eventually(lambda: len(_sent(graph, inbox)) == 1, "the template is sent")
    (sent,) = _sent(graph, inbox)
    assert sent["template"] == {
        "name": "order_shipped",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1001"}],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": "1",
                "parameters": [{"type": "text", "text": "A-1001"}],
            },
        ],
    }


async def test_hostile_values_never_reach_graph(inbox, client, graph):
    conversation_id = await inbox.in_team()
    before = len(graph.attempts_by(inbox.account.phone_number_id))
    for variables in (
        {"body": ["Ana"], "buttons": ["x"]},  # one value missing
        {"body": ["Ana", "A-1", "extra"], "buttons": ["x"]},
        {"body": ["Ana", "   "], "buttons": ["x"]},
        {"body": ["Ana", "line\nbreak"], "buttons": ["x"]},
        {"body": ["Ana", "tab\there"], "buttons": ["x"]},
        {"body": ["Ana", "four    spaces"], "buttons": ["x"]},
        {"body": ["Ana", "x" * 1025], "buttons": ["x"]},
        {"body": ["Ana", "A-1"], "buttons": ["has space"]},
        {"body": ["Ana", "A-1"]},  # the URL button's value missing
        {"header": "not asked", "body": ["Ana", "A-1"], "buttons": ["x"]},
        {"body": ["Ana", "nul\x00byte"], "buttons": ["x"]},
    ):
        body = {"conversationId": conversation_id, "variables": variables}
        r = await client.post("/templates/order_shipped/send", json=body, headers=inbox.agent.headers)
        assert r.status_code == 400, (variables, r.text)
    assert len(graph.attempts_by(inbox.account.phone_number_id)) == before


async def test_only_approved_templates_of_the_conversations_number(inbox, client, runtime, factory, graph):
    conversation_id = await inbox.in_team()
    await create(client, inbox.admin, "still_pending")
    for name in ("still_pending", "no_such_template"):
        body = {"conversationId": conversation_id, "variables": VARIABLES}
        r = await client.post(f"/templates/{name}/send", json=body, headers=inbox.agent.headers)
        assert r.status_code == 404, name
    body = {"conversationId": conversation_id, "language": "pt_BR", "variables": VARIABLES}
    assert (
        await client.post("/templates/order_shipped/send", json=body, headers=inbox.agent.headers)
    ).status_code == 404
    # a conversation the agent cannot see, another organization's, none at all
    body = {"conversationId": conversation_id, "variables": VARIABLES}
    r = await client.post("/templates/order_shipped/send", json=body, headers=inbox.outsider.headers)
    assert r.status_code == 404
    other = await factory.org()
    await connect_number(runtime, graph, other.id)
    r = await client.post("/templates/order_shipped/send", json=body, headers=other.admin.headers)
    assert r.status_code == 404
    assert (await client.post("/templates/order_shipped/send", json=body)).status_code == 401
    r = await client.post(
        "/templates/order_shipped/send", json={"variables": VARIABLES}, headers=inbox.agent.headers
    )
    assert r.status_code == 400


async def test_send_to_phone_opens_or_reuses_a_conversation(inbox, client, graph, runtime, factory):
    body = {"phone": "+55 (11) 99999-0001", "variables": VARIABLES}
    r = await client.post("/templates/order_shipped/send-to-phone", json=body, headers=inbox.agent.headers)
    assert r.status_code == 201, r.text
    first = r.json()["data"]
    (conversation,) = [
        c for c in await conversations_of(runtime, inbox.org.id) if c.id == first["conversationId"]
    ]
    assert (conversation.origin.value, conversation.status.value, conversation.assigned_to_id) == (
        "OUTBOUND",
        "WAITING_FOR_CUSTOMER",
        inbox.agent.id,
    )
    await eventually(lambda: len(_sent(graph, inbox)) == 1, "the template is sent")
    assert _sent(graph, inbox)[0]["to"] == "5511999990001"
    r = await client.post(
        "/templates/order_shipped/send-to-phone",
        json={**body, "phone": "005511999990001"},
        headers=inbox.agent.headers,
    )
    assert r.status_code == 201 and r.json()["data"]["conversationId"] == first["conversationId"]
    # the customer's conversation the agent could not see before is theirs now; hostile numbers
    for phone in ("not a phone", "+0123", "+1" + "2" * 20, "+55 11 9999\n0001"):
        r = await client.post(
            "/templates/order_shipped/send-to-phone",
            json={**body, "phone": phone},
            headers=inbox.agent.headers,
        )
        assert r.status_code == 400, phone
    other = await factory.org()
    await connect_number(runtime, graph, other.id)
    r = await client.post(
        "/templates/order_shipped/send-to-phone",
        json={**body, "whatsappAccountId": inbox.account.id},
        headers=other.admin.headers,
    )
    assert r.status_code == 404
    r = await client.post("/templates/order_shipped/send-to-phone", json=body, headers=other.admin.headers)
    assert r.status_code == 404  # the other organization has no such template
    assert (await client.post("/templates/order_shipped/send-to-phone", json=body)).status_code == 401


async def test_a_retried_send_with_its_idempotency_key_sends_once(inbox, client, graph):
    headers = {**inbox.agent.headers, "Idempotency-Key": "retry-1"}
    body = {"phone": "+5511999990002", "variables": VARIABLES}
    first = await client.post("/templates/order_shipped/send-to-phone", json=body, headers=headers)
    again = await client.post("/templates/order_shipped/send-to-phone", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["data"]["id"] == again.json()["data"]["id"]
    await eventually(lambda: len(_sent(graph, inbox)) == 1, "the template is sent")
    changed = {**body, "variables": {**VARIABLES, "body": ["Bo", "A-1"]}}
    r = await client.post("/templates/order_shipped/send-to-phone", json=changed, headers=headers)
    assert r.status_code == 409 and error_code(r) == "IDEMPOTENCY_KEY_REUSED"
