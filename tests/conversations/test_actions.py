"""What agents do to a conversation: take over, assign, unassign, resolve, read, follow up,
update; the status machine and the timeline that records every move."""

from __future__ import annotations

import itertools

import pytest

from cxinbox.conversations.status import ALLOWED_MOVES
from cxinbox.models.identity import Role
from cxinbox.models.inbox import ConversationStatus
from tests.fixtures.inbox import set_fields
from tests.fixtures.people import api_key_headers, error_code, events_of


def moves(conversation: dict) -> list[tuple[str, str | None, str | None, str]]:
    return [(e["kind"], e["from"], e["to"], e["reason"]) for e in conversation["timeline"]]


async def detail(client, inbox, conversation_id) -> dict:
    r = await client.get(f"/conversations/{conversation_id}", headers=inbox.admin.headers)
    assert r.status_code == 200
    return r.json()["data"]


async def test_takeover_assigns_the_caller_and_records_the_moves(inbox, client):
    conversation = await inbox.in_team()
    r = await client.post(f"/conversations/{conversation}/takeover", headers=inbox.agent.headers)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["status"] == "HUMAN_HANDLING"
    assert data["assignedTo"] == {"id": inbox.agent.id, "name": inbox.agent.user.name}
    timeline = (await detail(client, inbox, conversation))["timeline"]
    assert moves({"timeline": timeline}) == [
        ("STATUS", "OPEN", "HUMAN_HANDLING", "takeover"),
        ("ASSIGNEE", None, inbox.agent.id, "takeover"),
    ]
    assert timeline[0]["actor"] == {"type": "USER", "id": inbox.agent.id}
    # taking over one's own conversation again changes nothing
    r = await client.post(f"/conversations/{conversation}/takeover", headers=inbox.agent.headers)
    assert r.status_code == 200
    assert len((await detail(client, inbox, conversation))["timeline"]) == 2


async def test_takeover_from_the_bot_and_from_waiting(inbox, client):
    for status in (ConversationStatus.BOT_HANDLING, ConversationStatus.WAITING_FOR_CUSTOMER):
        conversation = await inbox.customer_writes()
        await set_fields(inbox.runtime, conversation, status=status)
        r = await client.post(f"/conversations/{conversation}/takeover", headers=inbox.admin.headers)
        assert r.status_code == 200 and r.json()["data"]["status"] == "HUMAN_HANDLING", status


async def test_takeover_is_refused_when_closed_taken_or_by_an_api_key(inbox, client):
    closed = await inbox.customer_writes()
    await client.post(f"/conversations/{closed}/resolve", headers=inbox.admin.headers)
    r = await client.post(f"/conversations/{closed}/takeover", headers=inbox.admin.headers)
    assert r.status_code == 409 and error_code(r) == "CONVERSATION_CLOSED"
    taken = await inbox.customer_writes()
    await client.post(f"/conversations/{taken}/takeover", headers=inbox.supervisor.headers)
    r = await client.post(f"/conversations/{taken}/takeover", headers=inbox.admin.headers)
    assert r.status_code == 409 and error_code(r) == "ALREADY_ASSIGNED"
    key = await api_key_headers(client, inbox.org)
    r = await client.post(f"/conversations/{await inbox.customer_writes()}/takeover", headers=key)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"


async def test_assign_unassign_and_hand_over(inbox, client):
    conversation = await inbox.in_team()
    r = await client.post(
        f"/conversations/{conversation}/assign",
        json={"userId": inbox.agent.id},
        headers=inbox.supervisor.headers,
    )
    assert r.status_code == 200
    assert (r.json()["data"]["status"], r.json()["data"]["assignedToId"]) == (
        "HUMAN_HANDLING",
        inbox.agent.id,
    )
    # someone else has it: a second assignment is refused, even by an admin (PATCH moves it)
    r = await client.post(
        f"/conversations/{conversation}/assign",
        json={"userId": inbox.other_agent.id},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 409 and error_code(r) == "ALREADY_ASSIGNED"
    # the assignee hands it over
    r = await client.post(
        f"/conversations/{conversation}/assign",
        json={"userId": inbox.other_agent.id},
        headers=inbox.agent.headers,
    )
    assert r.status_code == 200 and r.json()["data"]["assignedToId"] == inbox.other_agent.id
    r = await client.post(f"/conversations/{conversation}/unassign", headers=inbox.other_agent.headers)
    assert r.status_code == 200
    assert (r.json()["data"]["status"], r.json()["data"]["assignedTo"]) == ("OPEN", None)
    r = await client.post(f"/conversations/{conversation}/unassign", headers=inbox.admin.headers)
    assert r.status_code == 200  # nothing to release: no change
    assert moves(await detail(client, inbox, conversation)) == [
        ("STATUS", "OPEN", "HUMAN_HANDLING", "assign"),
        ("ASSIGNEE", None, inbox.agent.id, "assign"),
        ("ASSIGNEE", inbox.agent.id, inbox.other_agent.id, "assign"),
        ("STATUS", "HUMAN_HANDLING", "OPEN", "unassign"),
        ("ASSIGNEE", inbox.other_agent.id, None, "unassign"),
    ]


async def test_an_api_key_assigns_and_is_recorded_as_such(inbox, client):
    key = await api_key_headers(client, inbox.org)
    conversation = await inbox.customer_writes()
    r = await client.post(
        f"/conversations/{conversation}/assign", json={"userId": inbox.agent.id}, headers=key
    )
    assert r.status_code == 200
    [status, assignee] = (await detail(client, inbox, conversation))["timeline"]
    assert assignee["actor"]["type"] == "API_KEY" and assignee["actor"]["id"]


async def test_assign_needs_an_active_member_of_the_organization(inbox, client, factory):
    conversation = await inbox.customer_writes()
    stranger = await factory.org()
    for user_id in (stranger.admin.id, "no-such-user"):
        r = await client.post(
            f"/conversations/{conversation}/assign", json={"userId": user_id}, headers=inbox.admin.headers
        )
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
        assert r.json()["error"]["details"][0]["field"] == "userId"
    await client.delete(f"/users/{inbox.outsider.id}", headers=inbox.admin.headers)
    r = await client.post(
        f"/conversations/{conversation}/assign",
        json={"userId": inbox.outsider.id},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 400
    for body in ({}, {"userId": ""}, {"userId": 7}):
        r = await client.post(f"/conversations/{conversation}/assign", json=body, headers=inbox.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body


async def test_resolve_closes_for_good(inbox, client):
    conversation = await inbox.customer_writes()
    r = await client.post(f"/conversations/{conversation}/resolve", headers=inbox.admin.headers)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["status"] == "CLOSED" and data["closedAt"]
    r = await client.post(f"/conversations/{conversation}/resolve", headers=inbox.admin.headers)
    assert r.status_code == 200  # already closed: nothing moves
    r = await client.patch(
        f"/conversations/{conversation}", json={"status": "OPEN"}, headers=inbox.admin.headers
    )
    assert r.status_code == 409 and error_code(r) == "INVALID_STATUS_TRANSITION"
    assert r.json()["error"]["details"] == {"from": "CLOSED", "to": "OPEN", "allowed": []}
    assert moves(await detail(client, inbox, conversation)) == [("STATUS", "OPEN", "CLOSED", "resolve")]


STATUSES = list(ConversationStatus)


@pytest.mark.parametrize(
    ("current", "target"), list(itertools.product(STATUSES, STATUSES)), ids=lambda s: s.value
)
async def test_the_status_machine(inbox, client, current, target):
    """The organization has no bot: a move the machine allows into BOT_HANDLING is refused for that
    (tests/bot/test_sessions.py makes it with a bot)."""
    conversation = await inbox.customer_writes()
    await set_fields(inbox.runtime, conversation, status=current)
    r = await client.patch(
        f"/conversations/{conversation}", json={"status": target}, headers=inbox.admin.headers
    )
    allowed = current == target or target in ALLOWED_MOVES[current]
    to_the_bot = allowed and current != target == ConversationStatus.BOT_HANDLING
    assert r.status_code == (200 if allowed and not to_the_bot else 409), r.text
    if to_the_bot:
        assert error_code(r) == "BOT_NOT_AVAILABLE"
        assert (await detail(client, inbox, conversation))["status"] == current
    elif allowed:
        data = await detail(client, inbox, conversation)
        assert data["status"] == target
        expected = [] if current == target else [("STATUS", current.value, target.value, "update")]
        assert moves(data) == expected
    else:
        assert error_code(r) == "INVALID_STATUS_TRANSITION"


async def test_patch_updates_category_priority_team_and_moves_between_agents(inbox, client):
    conversation = await inbox.in_team()
    await client.post(f"/conversations/{conversation}/takeover", headers=inbox.agent.headers)
    body = {"category": "billing", "priority": "URGENT", "assignedToId": inbox.other_agent.id}
    r = await client.patch(f"/conversations/{conversation}", json=body, headers=inbox.supervisor.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["category"], data["priority"], data["assignedToId"]) == (
        "billing",
        "URGENT",
        inbox.other_agent.id,
    )
    r = await client.patch(
        f"/conversations/{conversation}",
        json={"category": None, "teamId": None, "status": "WAITING_FOR_CUSTOMER"},
        headers=inbox.admin.headers,
    )
    data = r.json()["data"]
    assert (data["category"], data["teamId"], data["status"]) == (None, None, "WAITING_FOR_CUSTOMER")
    assert moves(await detail(client, inbox, conversation))[-3:] == [
        ("ASSIGNEE", inbox.agent.id, inbox.other_agent.id, "update"),
        ("STATUS", "HUMAN_HANDLING", "WAITING_FOR_CUSTOMER", "update"),
        ("TEAM", inbox.team_id, None, "update"),
    ]
    # an agent only claims: another agent's conversation is not theirs to move
    r = await client.patch(
        f"/conversations/{conversation}",
        json={"assignedToId": inbox.agent.id},
        headers=inbox.other_agent.headers,
    )
    assert r.status_code == 200  # the assignee hands it over
    r = await client.patch(
        f"/conversations/{conversation}", json={"assignedToId": None}, headers=inbox.agent.headers
    )
    assert r.status_code == 200 and r.json()["data"]["assignedToId"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"status": "DONE"},
        {"status": None},
        {"priority": "SOMEDAY"},
        {"category": ""},
        {"category": "x" * 65},
        {"teamId": "no-such-team"},
        {"assignedToId": "no-such-user"},
    ],
)
async def test_patch_rejects_bad_fields(inbox, client, body):
    conversation = await inbox.customer_writes()
    r = await client.patch(f"/conversations/{conversation}", json=body, headers=inbox.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body


async def test_read_resets_unread_but_keeps_needs_action(inbox, client):
    conversation = await inbox.customer_writes("one")
    await inbox.customer_writes("two", wa_id=(await detail(client, inbox, conversation))["contact"]["waId"])
    assert (await detail(client, inbox, conversation))["unreadCount"] == 2
    r = await client.post(f"/conversations/{conversation}/read", headers=inbox.admin.headers)
    assert r.status_code == 200
    assert (r.json()["data"]["unreadCount"], r.json()["data"]["needsAction"]) == (0, True)
    updates = [
        e
        for e in await events_of(inbox.runtime, inbox.org.id, "conversation.updated")
        if e["id"] == conversation
    ]
    assert updates[-1]["unreadCount"] == 0
    before = len(updates)
    await client.post(f"/conversations/{conversation}/read", headers=inbox.admin.headers)
    updates = [
        e
        for e in await events_of(inbox.runtime, inbox.org.id, "conversation.updated")
        if e["id"] == conversation
    ]
    assert len(updates) == before  # nothing was unread: no event


async def test_follow_up_set_replace_and_remove(inbox, client):
    conversation = await inbox.customer_writes()
    r = await client.post(
        f"/conversations/{conversation}/follow-up",
        json={"note": "Call back about the refund", "dueAt": "2030-01-02T09:30:00Z"},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 200
    follow_up = r.json()["data"]["followUp"]
    assert follow_up["note"] == "Call back about the refund"
    assert follow_up["dueAt"] == "2030-01-02T09:30:00Z"
    assert follow_up["setById"] == inbox.admin.id and follow_up["setAt"]
    r = await client.post(f"/conversations/{conversation}/follow-up", headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["followUp"]["note"] is None
    r = await client.delete(f"/conversations/{conversation}/follow-up", headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["followUp"] is None
    for body in ({"dueAt": "tomorrow"}, {"note": "x" * 2001}):
        r = await client.post(
            f"/conversations/{conversation}/follow-up", json=body, headers=inbox.admin.headers
        )
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body


async def test_contact_history_lists_the_contacts_other_conversations(inbox, client):
    first = await inbox.customer_writes("first visit", wa_id="4915112345678")
    await client.post(f"/conversations/{first}/resolve", headers=inbox.admin.headers)
    second = await inbox.customer_writes("back again", wa_id="4915112345678")
    assert second != first
    await inbox.customer_writes("someone else")
    r = await client.get(f"/conversations/{second}/contact-history", headers=inbox.admin.headers)
    assert r.status_code == 200 and [c["id"] for c in r.json()["data"]] == [first]
    r = await client.get(f"/conversations/{first}/contact-history", headers=inbox.admin.headers)
    assert [c["id"] for c in r.json()["data"]] == [second]


async def test_contact_history_keeps_to_the_agents_view(inbox, client):
    first = await inbox.customer_writes("first", wa_id="4915187654321")
    await client.post(f"/conversations/{first}/resolve", headers=inbox.admin.headers)
    second = await inbox.in_team("again", wa_id="4915187654321")
    r = await client.get(f"/conversations/{second}/contact-history", headers=inbox.agent.headers)
    assert r.status_code == 200 and r.json()["data"] == []


async def test_return_to_bot_needs_an_active_bot(inbox, client):
    conversation = await inbox.customer_writes()
    await client.post(f"/conversations/{conversation}/takeover", headers=inbox.admin.headers)
    r = await client.post(
        f"/conversations/{conversation}/return-to-bot",
        json={"handoffSummary": "Wants a refund"},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    r = await client.post(f"/conversations/{conversation}/return-to-bot", headers=inbox.admin.headers)
    assert r.status_code == 409
    r = await client.post(
        f"/conversations/{conversation}/return-to-bot",
        json={"handoffSummary": "x" * 4001},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


async def test_bulk_reclassify_needs_a_manager_and_a_bot(client, factory):
    org = await factory.org()
    assert (await client.post("/conversations/re-classify", json={})).status_code == 401
    r = await client.post("/conversations/re-classify", json={}, headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    platform = await factory.super_admin()
    assert (await client.post("/conversations/re-classify", headers=platform.headers)).status_code == 403
    agent = await factory.member(org.id, Role.AGENT)
    assert (await client.post("/conversations/re-classify", headers=agent.headers)).status_code == 403


async def test_every_change_publishes_the_wire_object(inbox, client):
    conversation = await inbox.customer_writes()
    await client.post(f"/conversations/{conversation}/takeover", headers=inbox.admin.headers)
    await client.patch(
        f"/conversations/{conversation}", json={"priority": "HIGH"}, headers=inbox.admin.headers
    )
    await client.post(
        f"/conversations/{conversation}/follow-up", json={"note": "n"}, headers=inbox.admin.headers
    )
    await client.post(f"/conversations/{conversation}/resolve", headers=inbox.admin.headers)
    updates = [
        e
        for e in await events_of(inbox.runtime, inbox.org.id, "conversation.updated")
        if e["id"] == conversation
    ]
    assert [(u["status"], u["priority"], bool(u["followUp"])) for u in updates] == [
        ("HUMAN_HANDLING", "NORMAL", False),
        ("HUMAN_HANDLING", "HIGH", False),
        ("HUMAN_HANDLING", "HIGH", True),
        ("CLOSED", "HIGH", True),
    ]
    assert updates[0]["assignedTo"] == {"id": inbox.admin.id, "name": inbox.admin.user.name}
