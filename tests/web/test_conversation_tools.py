"""The conversation page's tools over HTTP: assign to a person and a team, tags, follow-up,
return to the bot (no bot: says so; with one, the agent's summary kept for its turns), quick
replies by shortcut, the shortcuts' help; another organization's ids are not found, and an agent
cannot move a conversation to someone else."""

from __future__ import annotations

from sqlalchemy import select

from cxinbox.bot.sessions import handoff_summary_of
from cxinbox.models.identity import Role
from cxinbox.models.inbox import Conversation
from cxinbox.models.teams import Team
from tests.bot.conftest import make_config
from tests.fixtures.sending import make_thread
from tests.web.helpers import HTMX, browser, signed_in

HOSTILE = '<img src=x onerror="alert(1)">'


async def _stored(runtime, conversation_id: str) -> Conversation:
    async with runtime.read_session() as session:
        found = await session.get(Conversation, conversation_id)
        assert found is not None
        return found


async def test_assign_tag_follow_up_and_close_from_the_page(app, client, runtime, graph, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    thread = await make_thread(runtime, graph, org)
    tag = await client.post("/tags", json={"name": HOSTILE}, headers=org.admin.headers)
    assert tag.status_code == 201, tag.text
    tag_id = tag.json()["data"]["id"]
    async with runtime.unit_of_work() as session:
        team = Team(organization_id=org.id, name="Billing")
        session.add(team)
        await session.flush()
        team_id = team.id
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        page = await site.get(f"/conversations/{thread.id}")
        assert page.status_code == 200 and agent.user.name in page.text and "Billing" in page.text
        assert HOSTILE not in page.text and "Keyboard shortcuts" in page.text

        r = await site.post(
            f"/conversations/{thread.id}/assign",
            data={"csrf": token, "user_id": agent.id, "team_id": team_id},
        )
        assert (r.status_code, r.headers["location"]) == (303, f"/conversations/{thread.id}")
        stored = await _stored(runtime, thread.id)
        assert (stored.assigned_to_id, stored.team_id) == (agent.id, team_id)

        r = await site.post(
            f"/conversations/{thread.id}/tags", data={"csrf": token, "tag_id": tag_id}, headers=HTMX
        )
        assert r.status_code == 200 and "&lt;img" in r.text and HOSTILE not in r.text
        assert "conversation-changed" in r.headers["HX-Trigger"]
        r = await site.post(
            f"/conversations/{thread.id}/follow-up",
            data={"csrf": token, "note": "Call back", "due_at": "2030-01-02T10:30"},
            headers=HTMX,
        )
        assert r.status_code == 200 and "Follow up by 2030-01-02 10:30 UTC: Call back" in r.text
        r = await site.post(f"/conversations/{thread.id}/follow-up/clear", data={"csrf": token}, headers=HTMX)
        assert "Call back" not in r.text
        r = await site.post(
            f"/conversations/{thread.id}/tags/{tag_id}/remove", data={"csrf": token}, headers=HTMX
        )
        assert "&lt;img" not in r.text

        r = await site.post(f"/conversations/{thread.id}/return-to-bot", data={"csrf": token}, headers=HTMX)
        assert r.status_code == 200 and "No bot is active" in r.text and 'role="alert"' in r.text
        plain = await site.post(f"/conversations/{thread.id}/return-to-bot", data={"csrf": token})
        assert plain.status_code == 409 and "No bot is active" in plain.text

        r = await site.post(f"/conversations/{thread.id}/close", data={"csrf": token})
        assert r.status_code == 303
    stored = await _stored(runtime, thread.id)
    assert (
        stored.status == "CLOSED" and stored.follow_up_at is None if hasattr(stored, "follow_up_at") else True
    )


async def test_an_agent_cannot_move_a_conversation_between_teams(app, runtime, graph, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    async with runtime.unit_of_work() as session:
        team = Team(organization_id=org.id, name="Sales")
        session.add(team)
        await session.flush()
        team_id = team.id
    thread = await make_thread(runtime, graph, org, assigned_to_id=agent.id)
    async with browser(app) as site:
        token = await signed_in(site, agent)
        page = await site.get(f"/conversations/{thread.id}")
        assert page.status_code == 200 and 'id="assign-team"' not in page.text and "Sales" not in page.text
        r = await site.post(f"/conversations/{thread.id}/assign", data={"csrf": token, "team_id": team_id})
        assert r.status_code == 403 and "Only admins and supervisors" in r.text
    assert (await _stored(runtime, thread.id)).team_id is None


async def test_quick_replies_by_shortcut(app, client, runtime, graph, factory):
    org = await factory.org()
    thread = await make_thread(runtime, graph, org)
    body = {"title": "Shipping", "shortcut": "/ship", "content": "Hi {{contact.name}}, it ships today."}
    created = await client.post("/quick-replies", json=body, headers=org.admin.headers)
    assert created.status_code == 201, created.text
    async with browser(app) as site:
        await signed_in(site, org.admin)
        r = await site.get(f"/conversations/{thread.id}/quick-replies", params={"text": "/sh"}, headers=HTMX)
        assert (
            r.status_code == 200
            and "/ship" in r.text
            and 'data-quick-reply="Hi Dana Customer, it ships today."' in r.text
        )
        for text in ("ship", "/nothing", ""):
            r = await site.get(
                f"/conversations/{thread.id}/quick-replies", params={"text": text}, headers=HTMX
            )
            assert "/ship" not in r.text, text


async def test_another_organizations_conversation_tools_are_not_found(app, client, runtime, graph, factory):
    other = await factory.org()
    thread = await make_thread(runtime, graph, other)
    their_tag = (await client.post("/tags", json={"name": "theirs"}, headers=other.admin.headers)).json()[
        "data"
    ]
    org = await factory.org()
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        for action in (
            "assign",
            "tags",
            f"tags/{their_tag['id']}/remove",
            "follow-up",
            "follow-up/clear",
            "return-to-bot",
        ):
            r = await site.post(
                f"/conversations/{thread.id}/{action}",
                data={"csrf": token, "user_id": org.admin.id, "tag_id": their_tag["id"], "note": "x"},
            )
            assert r.status_code == 404, (action, r.status_code)
        r = await site.get(f"/conversations/{thread.id}/quick-replies", params={"text": "/"})
        assert r.status_code == 200 and "Dana" not in r.text
    async with runtime.read_session() as session:
        stored = await session.scalar(select(Conversation).where(Conversation.id == thread.id))
        assert stored is not None and stored.assigned_to_id is None


async def test_return_to_the_bot_carries_the_agents_summary(app, client, runtime, graph, factory, llm):
    org = await factory.org()
    await make_config(client, org.admin.headers, llm)
    thread = await make_thread(runtime, graph, org)
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        page = await site.get(f"/conversations/{thread.id}")
        assert 'name="handoff_summary"' in page.text
        r = await site.post(
            f"/conversations/{thread.id}/return-to-bot",
            data={"csrf": token, "handoff_summary": "Wants the refund in store credit"},
            headers=HTMX,
        )
        assert r.status_code == 200, r.text
    stored = await _stored(runtime, thread.id)
    assert (stored.status, stored.assigned_to_id) == ("BOT_HANDLING", None)
    async with runtime.read_session() as session:
        assert await handoff_summary_of(session, stored) == "Wants the refund in store credit"
