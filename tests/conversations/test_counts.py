"""The counters behind /conversations/counts stay equal to the conversations themselves: after
every kind of change, under concurrent changes, across folds, and after a recount."""

from __future__ import annotations

import asyncio
import itertools

import httpx
from sqlalchemy import delete, text

from cxinbox.conversations import counters
from cxinbox.models.inbox import (
    ConversationCount,
    ConversationCountChange,
    ConversationOrigin,
    ConversationStatus,
)
from tests.fixtures.inbox import set_fields, text_message
from tests.fixtures.whatsapp import post_webhook, processed

FILTERS = [
    {},
    {"status": "OPEN"},
    {"status": "HUMAN_HANDLING"},
    {"status": "WAITING_FOR_CUSTOMER"},
    {"status": "CLOSED"},
    {"assignedTo": "me"},
    {"assignedTo": "unassigned"},
    {"category": "billing"},
    {"origin": "SIMULATED"},
]


async def _listed(client, headers, params) -> int:
    total, cursor = 0, None
    while True:
        page = await client.get(
            "/conversations",
            params=params | {"limit": 100} | ({"cursor": cursor} if cursor else {}),
            headers=headers,
        )
        assert page.status_code == 200, page.text
        total += len(page.json()["data"])
        cursor = page.json()["meta"]["nextCursor"]
        if cursor is None:
            return total


async def assert_counts_exact(client, inbox, members=None) -> None:
    """Every member's counts, for every filter, equal what the lists hold."""
    members = members or [inbox.admin, inbox.supervisor, inbox.agent, inbox.other_agent, inbox.outsider]
    filters = FILTERS + [{"teamId": inbox.team_id}, {"assignedTo": inbox.agent.id}]
    for member, params in itertools.product(members, filters):
        r = await client.get("/conversations/counts", params=params, headers=member.headers)
        expected = {
            "all": await _listed(client, member.headers, params),
            "unread": await _listed(client, member.headers, params | {"subFilter": "unread"}),
            "needsAction": await _listed(client, member.headers, params | {"subFilter": "needs_action"}),
        }
        assert r.json()["data"] == expected, (member.user.name, params)


async def fold(runtime) -> None:
    async with runtime.unit_of_work() as session:
        await counters.fold(session)


async def test_counts_follow_every_kind_of_change(inbox, client, runtime):
    queue = [await inbox.in_team(f"queue {i}") for i in range(4)]
    loose = [await inbox.customer_writes(f"loose {i}") for i in range(3)]
    await assert_counts_exact(client, inbox)
    await client.post(f"/conversations/{queue[0]}/takeover", headers=inbox.agent.headers)
    await client.post(
        f"/conversations/{queue[1]}/assign",
        json={"userId": inbox.other_agent.id},
        headers=inbox.admin.headers,
    )
    await client.post(f"/conversations/{queue[2]}/read", headers=inbox.agent.headers)
    await client.patch(
        f"/conversations/{loose[0]}",
        json={"category": "billing", "status": "WAITING_FOR_CUSTOMER"},
        headers=inbox.admin.headers,
    )
    await client.post(f"/conversations/{loose[1]}/resolve", headers=inbox.admin.headers)
    await client.post(f"/conversations/{loose[2]}/takeover", headers=inbox.admin.headers)
    await set_fields(runtime, queue[3], origin=ConversationOrigin.SIMULATED, needs_action=False)
    await assert_counts_exact(client, inbox)
    await fold(runtime)
    await assert_counts_exact(client, inbox)
    # the customer writes back; an agent leaves; a conversation moves team
    wa_id = (await client.get(f"/conversations/{loose[0]}", headers=inbox.admin.headers)).json()["data"][
        "contact"
    ]["waId"]
    await inbox.customer_writes("back", wa_id=wa_id)
    await client.patch(f"/conversations/{queue[1]}", json={"teamId": None}, headers=inbox.admin.headers)
    await client.delete(f"/users/{inbox.agent.id}", headers=inbox.admin.headers)
    await assert_counts_exact(
        client, inbox, [inbox.admin, inbox.supervisor, inbox.other_agent, inbox.outsider]
    )
    await fold(runtime)
    await fold(runtime)  # nothing left to fold: no change
    await assert_counts_exact(client, inbox, [inbox.admin, inbox.other_agent])


async def test_counts_stay_exact_under_simultaneous_changes(inbox, client, runtime, live_server):
    conversations = [await inbox.in_team(f"c{i}") for i in range(8)]
    numbers = [
        (await client.get(f"/conversations/{c}", headers=inbox.admin.headers)).json()["data"]["contact"][
            "waId"
        ]
        for c in conversations
    ]

    async def fold_repeatedly() -> None:
        for _ in range(5):
            await fold(runtime)
            await asyncio.sleep(0.01)

    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        actions = [
            *(
                http.post(f"/conversations/{c}/takeover", headers=inbox.agent.headers)
                for c in conversations[:4]
            ),
            *(
                http.post(f"/conversations/{c}/takeover", headers=inbox.other_agent.headers)
                for c in conversations[2:6]
            ),
            *(http.post(f"/conversations/{c}/read", headers=inbox.admin.headers) for c in conversations),
            *(
                http.post(f"/conversations/{c}/resolve", headers=inbox.admin.headers)
                for c in conversations[6:]
            ),
            *(
                post_webhook(http, text_message(inbox.account.phone_number_id, n, "Customer", "more"))
                for n in numbers
            ),
            fold_repeatedly(),
        ]
        results = await asyncio.gather(*actions)
    webhooks = [r for r in results if r is not None and r.request.url.path.endswith("/webhooks/whatsapp")]
    await asyncio.gather(*(processed(runtime, r.json()["data"]["id"]) for r in webhooks))
    await assert_counts_exact(client, inbox, [inbox.admin, inbox.agent, inbox.other_agent])
    await fold(runtime)
    await assert_counts_exact(client, inbox, [inbox.admin, inbox.agent])


async def test_recount_rebuilds_an_organizations_counts(inbox, client, runtime):
    for i in range(3):
        await inbox.in_team(f"x{i}")
    async with runtime.unit_of_work() as session:  # counts lost (say, rows written without the triggers)
        for model in (ConversationCount, ConversationCountChange):
            await session.execute(delete(model).where(model.organization_id == inbox.org.id))
    r = await client.get("/conversations/counts", headers=inbox.admin.headers)
    assert r.json()["data"]["all"] == 0
    async with runtime.unit_of_work() as session:
        await counters.recount(session, inbox.org.id)
    await assert_counts_exact(client, inbox, [inbox.admin, inbox.agent])


async def test_a_status_set_directly_in_the_database_is_counted(inbox, client, runtime):
    """The triggers count whatever writes the conversation, not only this area's code."""
    conversation = await inbox.customer_writes()
    await set_fields(runtime, conversation, status=ConversationStatus.BOT_HANDLING, unread_count=0)
    r = await client.get(
        "/conversations/counts", params={"status": "BOT_HANDLING"}, headers=inbox.admin.headers
    )
    assert r.json()["data"] == {"all": 1, "unread": 0, "needsAction": 1}


async def test_the_count_triggers_exist(runtime):
    """A later revision that rebuilds ``conversations`` (SQLite batch mode) must create them again."""
    async with runtime.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            query = (
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'conversations'::regclass AND NOT tgisinternal"
            )
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'conversations'"
        names = set((await connection.execute(text(query))).scalars())
    assert {"conversations_counted", "conversations_recounted"} <= names
