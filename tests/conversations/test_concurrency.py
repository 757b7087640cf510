"""Agents acting at the same moment, over real HTTP on a real server: exactly one claim wins,
counters stay exact, and paging holds while conversations arrive."""

from __future__ import annotations

import asyncio

import httpx

from cxinbox.auth.principal import Principal
from cxinbox.conversations import assignment
from cxinbox.conversations.assignment import AlreadyAssigned
from cxinbox.core.db import commit, rollback
from cxinbox.models.identity import Role
from cxinbox.models.inbox import Conversation
from tests.fixtures.inbox import seed_conversations, text_message
from tests.fixtures.whatsapp import post_webhook, processed


async def _race(
    live_server: str, *requests: tuple[str, str, dict | None, dict[str, str]]
) -> list[httpx.Response]:
    async with (
        httpx.AsyncClient(base_url=live_server, timeout=30) as one,
        httpx.AsyncClient(base_url=live_server, timeout=30) as two,
    ):
        clients = [one, two]
        return await asyncio.gather(
            *(
                clients[i % 2].request(method, path, json=body, headers=headers)
                for i, (method, path, body, headers) in enumerate(requests)
            )
        )


async def test_two_agents_taking_over_at_once_one_wins(inbox, client, live_server):
    for _ in range(5):
        conversation = await inbox.in_team()
        path = f"/conversations/{conversation}/takeover"
        responses = await _race(
            live_server,
            ("POST", path, None, inbox.agent.headers),
            ("POST", path, None, inbox.other_agent.headers),
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()["data"]["assignedToId"]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["error"]["code"] == "ALREADY_ASSIGNED"
        r = await client.get(f"/conversations/{conversation}", headers=inbox.admin.headers)
        data = r.json()["data"]
        assert data["assignedToId"] == winner
        assert [e["kind"] for e in data["timeline"]] == ["STATUS", "ASSIGNEE"]


async def test_two_assignments_at_once_one_wins(inbox, client, live_server):
    for _ in range(5):
        conversation = await inbox.in_team()
        path = f"/conversations/{conversation}/assign"
        responses = await _race(
            live_server,
            ("POST", path, {"userId": inbox.agent.id}, inbox.admin.headers),
            ("POST", path, {"userId": inbox.other_agent.id}, inbox.supervisor.headers),
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()["data"]["assignedToId"]
        r = await client.get(f"/conversations/{conversation}", headers=inbox.admin.headers)
        assert r.json()["data"]["assignedToId"] == winner


async def test_a_claim_that_loses_the_race_is_decided_again_on_what_won(inbox, runtime):
    """The losing transaction read the conversation unassigned (PostgreSQL) or waits for the winner
    to commit (SQLite); either way its compare-and-set finds the winner's state and the rule refuses."""
    conversation = await inbox.in_team()
    first = Principal(role=Role.AGENT, organization_id=inbox.org.id, user_id=inbox.agent.id)
    second = Principal(role=Role.AGENT, organization_id=inbox.org.id, user_id=inbox.other_agent.id)
    winner_session = runtime.sessionmaker()
    loser_session = runtime.sessionmaker()
    try:
        await assignment.takeover(winner_session, first, conversation)
        loser = asyncio.create_task(assignment.takeover(loser_session, second, conversation))
        await asyncio.sleep(0.3)  # let the loser read and block on the row
        await commit(winner_session)
        try:
            await loser
            raise AssertionError("both claims succeeded")
        except AlreadyAssigned as exc:
            assert exc.details == {"assignedToId": inbox.agent.id}
    finally:
        await rollback(loser_session)
        await loser_session.close()
        await winner_session.close()
    async with runtime.sessionmaker() as session:
        assert (await session.get_one(Conversation, conversation)).assigned_to_id == inbox.agent.id


async def test_unread_count_stays_exact_under_simultaneous_messages_and_reads(
    inbox, client, runtime, live_server
):
    first = await inbox.customer_writes("first")
    wa_id = (await client.get(f"/conversations/{first}", headers=inbox.admin.headers)).json()["data"][
        "contact"
    ]["waId"]
    bodies = [text_message(inbox.account.phone_number_id, wa_id, "Customer", f"m{i}") for i in range(12)]
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        posted = await asyncio.gather(*(post_webhook(http, body) for body in bodies))
    await asyncio.gather(*(processed(runtime, r.json()["data"]["id"]) for r in posted))
    r = await client.get(f"/conversations/{first}", headers=inbox.admin.headers)
    assert (r.json()["data"]["unreadCount"], r.json()["data"]["needsAction"]) == (13, True)
    # reads racing with more messages: once everything settled and one last read ran, it is 0,
    # and each message after that counts exactly once
    more = [text_message(inbox.account.phone_number_id, wa_id, "Customer", f"n{i}") for i in range(6)]
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        results = await asyncio.gather(
            *(post_webhook(http, body) for body in more),
            *(http.post(f"/conversations/{first}/read", headers=inbox.admin.headers) for _ in range(3)),
        )
    await asyncio.gather(*(processed(runtime, r.json()["data"]["id"]) for r in results[: len(more)]))
    unread = (await client.get(f"/conversations/{first}", headers=inbox.admin.headers)).json()["data"][
        "unreadCount"
    ]
    assert 0 <= unread <= len(more)
    await client.post(f"/conversations/{first}/read", headers=inbox.admin.headers)
    extra = [text_message(inbox.account.phone_number_id, wa_id, "Customer", f"o{i}") for i in range(4)]
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        posted = await asyncio.gather(*(post_webhook(http, body) for body in extra))
    await asyncio.gather(*(processed(runtime, r.json()["data"]["id"]) for r in posted))
    r = await client.get(f"/conversations/{first}", headers=inbox.admin.headers)
    assert r.json()["data"]["unreadCount"] == 4


async def test_paging_over_http_while_customers_write_in(inbox, runtime, live_server):
    existing = set(await seed_conversations(runtime, inbox.org.id, inbox.account.id, 40))

    async def walk() -> list[str]:
        seen, cursor = [], None
        async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
            while True:
                params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
                page = (await http.get("/conversations", params=params, headers=inbox.admin.headers)).json()
                seen += [c["id"] for c in page["data"]]
                cursor = page["meta"]["nextCursor"]
                if cursor is None:
                    return seen
                await asyncio.sleep(0)

    async def write_in() -> None:
        async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
            for i in range(8):
                await post_webhook(
                    http, text_message(inbox.account.phone_number_id, f"31600000{i:04d}", "New", "hi")
                )

    seen, _ = await asyncio.gather(walk(), write_in())
    assert len(seen) == len(set(seen))
    assert existing <= set(seen)
