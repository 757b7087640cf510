"""Auto-assignment: strategies, capacity, FIFO, presence and hours, what re-runs it, and two
assigners at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from cxinbox.models.identity import Presence, User
from cxinbox.models.inbox import Conversation
from cxinbox.models.teams import Team
from cxinbox.routing.assigner import assign_waiting
from tests.fixtures.wait import eventually


async def set_presence(runtime, *user_ids: str, status: Presence = Presence.ONLINE) -> None:
    """Straight in the database: no hook runs (the test decides when assignment runs)."""
    async with runtime.unit_of_work() as session:
        for user_id in user_ids:
            (await session.get_one(User, user_id)).status = status


async def set_team(runtime, team_id: str, **values) -> None:
    async with runtime.unit_of_work() as session:
        team = await session.get_one(Team, team_id)
        for name, value in values.items():
            setattr(team, name, value)


async def assignees(runtime, conversation_ids: list[str]) -> list[str | None]:
    async with runtime.sessionmaker() as session:
        rows = dict(
            (
                await session.execute(
                    select(Conversation.id, Conversation.assigned_to_id).where(
                        Conversation.id.in_(conversation_ids)
                    )
                )
            ).all()
        )
    return [rows[c] for c in conversation_ids]


@pytest.fixture
async def queue(client, routing):
    """Conversations routed to the support team by the default team; its agents OFFLINE."""
    r = await client.put(
        "/routing-rules/default-team", json={"teamId": routing.support_id}, headers=routing.admin.headers
    )
    assert r.status_code == 200
    return routing


async def test_patch_team_sets_the_assignment_settings(client, routing):
    r = await client.patch(
        f"/teams/{routing.support_id}",
        json={"autoAssign": True, "assignmentStrategy": "LEAST_BUSY", "maxConcurrentPerAgent": 3},
        headers=routing.admin.headers,
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["autoAssign"], data["assignmentStrategy"], data["maxConcurrentPerAgent"]) == (
        True,
        "LEAST_BUSY",
        3,
    )
    for bad in ({"assignmentStrategy": "RANDOM"}, {"maxConcurrentPerAgent": 0}, {"autoAssign": "often"}):
        r = await client.patch(f"/teams/{routing.support_id}", json=bad, headers=routing.admin.headers)
        assert r.status_code == 400, r.text
    r = await client.patch(
        f"/teams/{routing.support_id}", json={"autoAssign": False}, headers=routing.inbox.agent.headers
    )
    assert r.status_code == 403


async def test_fifo_and_re_runs_when_an_agent_comes_online_and_a_conversation_closes(client, queue, runtime):
    inbox, headers = queue.inbox, queue.admin.headers
    waiting = [await inbox.customer_writes(f"n{n}") for n in range(3)]
    r = await client.patch(
        f"/teams/{queue.support_id}", json={"autoAssign": True, "maxConcurrentPerAgent": 1}, headers=headers
    )
    assert r.status_code == 200
    assert await assign_waiting(runtime, inbox.org.id) == 0  # nobody ONLINE
    r = await client.patch(
        f"/users/{inbox.agent.id}/status", json={"status": "ONLINE"}, headers=inbox.agent.headers
    )
    assert r.status_code == 200, r.text

    async def first_taken() -> bool:
        return await assignees(runtime, waiting) == [inbox.agent.id, None, None]

    await eventually(first_taken, "the oldest conversation given to the agent who came online")
    r = await client.get(f"/conversations/{waiting[0]}", headers=headers)
    assert r.json()["data"]["status"] == "HUMAN_HANDLING"
    assert ("ASSIGNEE", "AUTO_ASSIGN") in [(e["kind"], e["reason"]) for e in r.json()["data"]["timeline"]]
    await client.post(f"/conversations/{waiting[0]}/resolve", headers=inbox.agent.headers)

    async def second_taken() -> bool:
        return (await assignees(runtime, waiting))[1:] == [inbox.agent.id, None]

    await eventually(second_taken, "the next oldest given when the agent's conversation closed")
    await client.post(f"/conversations/{waiting[1]}/unassign", headers=headers)  # released: back in the queue
    await eventually(
        lambda: _is(runtime, waiting[1], inbox.agent.id),
        "the released conversation given again, first in line",
    )


async def _is(runtime, conversation_id: str, user_id: str | None) -> bool:
    return (await assignees(runtime, [conversation_id]))[0] == user_id


async def test_round_robin_takes_turns(client, queue, runtime):
    inbox = queue.inbox
    await set_team(runtime, queue.support_id, auto_assign=True)
    await set_presence(runtime, inbox.agent.id, inbox.other_agent.id)
    conversations = [await inbox.customer_writes(f"n{n}") for n in range(5)]

    async def all_taken() -> bool:
        return None not in await assignees(runtime, conversations)

    await eventually(all_taken, "every conversation assigned")
    taken = await assignees(runtime, conversations)
    counts = sorted(taken.count(u) for u in (inbox.agent.id, inbox.other_agent.id))
    assert counts == [2, 3]


async def test_least_busy_fills_the_idlest_and_never_exceeds_capacity(client, queue, runtime):
    inbox, headers = queue.inbox, queue.admin.headers
    held = [await inbox.customer_writes(f"held {n}") for n in range(2)]
    for conversation_id in held:
        await client.post(
            f"/conversations/{conversation_id}/assign", json={"userId": inbox.agent.id}, headers=headers
        )
    waiting = [await inbox.customer_writes(f"n{n}") for n in range(5)]
    await set_team(
        runtime,
        queue.support_id,
        auto_assign=True,
        assignment_strategy="LEAST_BUSY",
        max_concurrent_per_agent=3,
    )
    await set_presence(runtime, inbox.agent.id, inbox.other_agent.id)
    await assign_waiting(runtime, inbox.org.id)  # the minute's sweep may take part: same rules
    taken = await assignees(runtime, waiting)
    assert taken[:3] == [inbox.other_agent.id] * 2 + [taken[2]]
    assert taken.count(inbox.agent.id) == 1 and taken.count(inbox.other_agent.id) == 3
    assert taken[4] is None  # both full: 3 each


async def test_nothing_is_assigned_while_the_team_is_closed_or_to_an_agent_away(client, queue, runtime):
    inbox = queue.inbox
    waiting = [await inbox.customer_writes("hi")]
    await set_team(runtime, queue.support_id, auto_assign=True)
    await set_presence(runtime, inbox.agent.id, status=Presence.AWAY)
    assert await assign_waiting(runtime, inbox.org.id) == 0
    await set_presence(runtime, inbox.agent.id)
    r = await client.put(
        f"/teams/{queue.support_id}/schedule",
        json={"timezone": "UTC", "weeklyHours": {}},
        headers=queue.admin.headers,
    )
    assert r.status_code == 200, r.text
    assert await assign_waiting(runtime, inbox.org.id) == 0
    assert await assignees(runtime, waiting) == [None]


async def test_concurrent_assigners_never_exceed_capacity_nor_double_assign(client, queue, runtime):
    """Three assigners at once over six waiting conversations, two agents of capacity two."""
    inbox = queue.inbox
    waiting = [await inbox.customer_writes(f"n{n}") for n in range(6)]
    await set_team(runtime, queue.support_id, auto_assign=True, max_concurrent_per_agent=2)
    await set_presence(runtime, inbox.agent.id, inbox.other_agent.id)
    results = await asyncio.gather(*(assign_waiting(runtime, inbox.org.id) for _ in range(3)))
    taken = await assignees(runtime, waiting)
    assert sum(results) <= 4  # the minute's sweep may have taken part
    assert taken[:4].count(inbox.agent.id) == 2 and taken[:4].count(inbox.other_agent.id) == 2
    assert taken[4:] == [None, None]
