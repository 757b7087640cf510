"""The inbox and conversation pages over HTTP: every page for every role, the agent's actions, the
filters, another organization's ids, hostile text, the stream's address and the static files."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from cxinbox.auth.tokens import EVENTS
from cxinbox.models.identity import Role
from cxinbox.models.inbox import (
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    MessageType,
    SenderType,
)
from cxinbox.web.static import ASSETS, static_url
from tests.fixtures.sending import make_thread
from tests.web.helpers import HTMX, browser, signed_in

HOSTILE = '<img src=x onerror="alert(1)">'


async def _people(factory):
    org = await factory.org()
    return org, {
        Role.ADMIN: org.admin,
        Role.SUPERVISOR: await factory.member(org.id, Role.SUPERVISOR),
        Role.AGENT: await factory.member(org.id, Role.AGENT),
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.SUPER_ADMIN])
async def test_every_page_answers_for_every_role(app, runtime, graph, factory, role):
    org, people = await _people(factory)
    member = await factory.super_admin() if role == Role.SUPER_ADMIN else people[role]
    thread = await make_thread(runtime, graph, org, assigned_to_id=member.id if role == Role.AGENT else None)
    async with browser(app) as site:
        await signed_in(site, member)
        paths = [
            "/",
            "/inbox",
            "/inbox?view=mine&status=CLOSED&q=order&sub=unread",
            "/inbox?view=unassigned&status=bogus&sub=bogus&cursor=bogus",
            "/inbox/list?view=mine",
            f"/inbox/row/{thread.id}?view=mine&sub=unread&q=order",
            f"/conversations/{thread.id}",
            f"/conversations/{thread.id}/head",
            f"/conversations/{thread.id}/timeline",
            f"/conversations/{thread.id}/composer",
            f"/conversations/{thread.id}/nothing",
            "/sign-in",
            "/stream",
            "/team",
        ]
        for path in paths:
            r = await site.get(path)
            assert r.status_code < 500, (path, r.status_code, r.text)
            if r.headers.get("content-type", "").startswith("text/html"):
                assert "Content-Security-Policy" in r.headers
        page = await site.get(f"/conversations/{thread.id}")
        if role == Role.SUPER_ADMIN:  # outside any organization: no inbox, and nothing of one
            assert "belongs to no organization" in page.text and "Dana Customer" not in page.text
            assert (await site.get("/stream")).status_code == 401
        else:
            assert (
                page.status_code == 200 and "Dana Customer" in page.text and "Where is my order?" in page.text
            )


async def test_an_agent_sees_only_what_the_api_shows_them(app, runtime, graph, factory):
    org, people = await _people(factory)
    theirs = await make_thread(runtime, graph, org, assigned_to_id=people[Role.SUPERVISOR].id)
    async with browser(app) as site:
        await signed_in(site, people[Role.AGENT])
        r = await site.get(f"/conversations/{theirs.id}")
        assert r.status_code == 404 and "Where is my order?" not in r.text
        inbox = await site.get("/inbox")
        assert theirs.id not in inbox.text


async def test_another_organizations_conversation_is_not_found(app, runtime, graph, factory):
    other = await factory.org()
    thread = await make_thread(runtime, graph, other)
    org = await factory.org()
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        for path in (f"/conversations/{thread.id}", f"/conversations/{thread.id}/timeline"):
            r = await site.get(path)
            assert r.status_code in (303, 404) and "Where is my order?" not in r.text
        for action in ("takeover", "assign-to-me", "close", "messages"):
            r = await site.post(f"/conversations/{thread.id}/{action}", data={"csrf": token, "text": "hi"})
            assert r.status_code == 404, (action, r.status_code)
    async with runtime.sessionmaker() as session:
        conversation = await session.get_one(Conversation, thread.id)
        sent = await session.scalar(
            select(func.count()).select_from(Message).where(Message.conversation_id == thread.id)
        )
    assert conversation.assigned_to_id is None and conversation.status != ConversationStatus.CLOSED
    assert sent == 1


async def test_reply_take_over_and_close_through_the_services(app, runtime, graph, factory):
    org = await factory.org()
    thread = await make_thread(runtime, graph, org)
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        page = await site.get(f"/conversations/{thread.id}")
        assert "Reply window open until" in page.text
        assert '<label for="reply-text">Reply</label>' in page.text and ">Send</button>" in page.text

        sent = await site.post(
            f"/conversations/{thread.id}/messages",
            data={"csrf": token, "text": "It ships today", "idempotency_key": "k1"},
            headers=HTMX,
        )
        assert sent.status_code == 200 and 'id="composer"' in sent.text
        assert sent.headers["HX-Trigger"] == '{"conversation-changed": true}'
        again = await site.post(
            f"/conversations/{thread.id}/messages",
            data={"csrf": token, "text": "It ships today", "idempotency_key": "k1"},
            headers=HTMX,
        )
        assert again.status_code == 200  # the same form sent twice sends once
        timeline = await site.get(f"/conversations/{thread.id}/timeline", headers=HTMX)
        assert timeline.text.count("It ships today") == 1

        taken = await site.post(f"/conversations/{thread.id}/takeover", data={"csrf": token}, headers=HTMX)
        assert taken.status_code == 200 and f"Assigned to {org.admin.user.name}" in taken.text
        plain = await site.post(f"/conversations/{thread.id}/close", data={"csrf": token})
        assert (plain.status_code, plain.headers["location"]) == (303, f"/conversations/{thread.id}")
        closed = await site.get(f"/conversations/{thread.id}/head")
        assert "Closed" in closed.text and "Take over" not in closed.text
        refused = await site.post(f"/conversations/{thread.id}/takeover", data={"csrf": token}, headers=HTMX)
        assert "The conversation is closed." in refused.text
        no_token = await site.post(f"/conversations/{thread.id}/messages", data={"text": "forged"})
        assert no_token.status_code == 403
    async with runtime.sessionmaker() as session:
        texts = (
            await session.scalars(select(Message.text).where(Message.conversation_id == thread.id))
        ).all()
    assert sorted(t or "" for t in texts) == ["It ships today", "Where is my order?"]


async def test_a_closed_window_refuses_the_composer(app, runtime, graph, factory):
    org = await factory.org()
    thread = await make_thread(runtime, graph, org, last_inbound=timedelta(hours=30))
    async with browser(app, language="es") as site:
        token = await signed_in(site, org.admin)
        page = await site.get(f"/conversations/{thread.id}")
        assert "La ventana de 24 horas está cerrada" in page.text and 'name="text"' not in page.text
        r = await site.post(f"/conversations/{thread.id}/messages", data={"csrf": token, "text": "hola"})
        assert r.status_code == 409 and "La ventana de 24 horas está cerrada" in r.text


async def test_filters_counts_and_unread_markers(app, runtime, graph, factory):
    org = await factory.org()
    mine = await make_thread(runtime, graph, org, assigned_to_id=org.admin.id)
    open_one = await make_thread(runtime, graph, org)
    async with runtime.unit_of_work() as session:
        conversation = await session.get_one(Conversation, open_one.id)
        conversation.unread_count = 2
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        everything = await site.get("/inbox")
        assert mine.id in everything.text and open_one.id in everything.text
        assert '<span class="badge">2<span class="visually-hidden"> 2 unread</span></span>' in everything.text
        only_mine = await site.get("/inbox/list?view=mine", headers=HTMX)
        assert mine.id in only_mine.text and open_one.id not in only_mine.text
        unassigned = await site.get("/inbox?view=unassigned")
        assert open_one.id in unassigned.text and mine.id not in unassigned.text
        unread = await site.get("/inbox?sub=unread")
        assert open_one.id in unread.text and mine.id not in unread.text
        assert "Unread <strong>1</strong>" in unread.text
        read = await site.post(f"/conversations/{open_one.id}/read", data={"csrf": token}, headers=HTMX)
        assert read.status_code == 204
        assert "badge" not in (await site.get("/inbox/list", headers=HTMX)).text


async def test_a_row_answers_with_the_lists_filters_and_counts(app, runtime, graph, factory):
    """``/inbox/row/{id}`` (what a page fetches on a conversation's event): the row as the list
    shows it when the conversation is in the view, no row when it is not (then the page drops it),
    and the view's counts either way; never another organization's or a hidden conversation."""
    org, people = await _people(factory)
    mine = await make_thread(runtime, graph, org, assigned_to_id=org.admin.id)
    open_one = await make_thread(runtime, graph, org)
    theirs = await make_thread(runtime, graph, org, assigned_to_id=people[Role.SUPERVISOR].id)
    other = await make_thread(runtime, graph, await factory.org())
    async with runtime.unit_of_work() as session:
        (await session.get_one(Conversation, open_one.id)).unread_count = 3
    async with browser(app) as site:
        await signed_in(site, org.admin)
        row = await site.get(f"/inbox/row/{open_one.id}?view=unassigned&open={open_one.id}", headers=HTMX)
        assert row.status_code == 200 and 'id="list-counts"' in row.text
        assert f'data-id="{open_one.id}"' in row.text and 'aria-current="page"' in row.text
        assert '<span class="badge">3<span class="visually-hidden"> 3 unread</span></span>' in row.text
        assert f'href="/conversations/{open_one.id}?view=unassigned"' in row.text
        order = re.search(r'data-order="([^"]+)"', row.text)
        assert order and order.group(1).endswith(f"|{open_one.id}")
        assert "All <strong>1</strong>" in row.text and "Unread <strong>1</strong>" in row.text
        listed = await site.get("/inbox/list?view=unassigned", headers=HTMX)
        assert order.group(0) in listed.text  # the same order key as the list's row

        outside = await site.get(f"/inbox/row/{mine.id}?view=unassigned", headers=HTMX)
        assert 'id="list-counts"' in outside.text and "<li" not in outside.text
        unread_only = await site.get(f"/inbox/row/{mine.id}?sub=unread", headers=HTMX)
        assert "<li" not in unread_only.text and "Unread <strong>1</strong>" in unread_only.text
        for stranger in (other.id, "no-such-id", "x" * 500):
            r = await site.get(f"/inbox/row/{stranger}", headers=HTMX)
            assert r.status_code == 200 and "<li" not in r.text and "Dana Customer" not in r.text
    async with browser(app) as site:
        await signed_in(site, people[Role.AGENT])
        hidden = await site.get(f"/inbox/row/{theirs.id}", headers=HTMX)
        assert hidden.status_code == 200 and "<li" not in hidden.text and theirs.id not in hidden.text
    async with browser(app) as stranger:
        signed_out = await stranger.get(f"/inbox/row/{open_one.id}")
        assert signed_out.status_code in (303, 401) and "Dana Customer" not in signed_out.text


async def test_customer_text_is_shown_as_text(app, runtime, graph, factory):
    org = await factory.org()
    thread = await make_thread(runtime, graph, org)
    async with runtime.unit_of_work() as session:
        contact = await session.get_one(Contact, thread.contact.id)
        contact.name = HOSTILE
        message = await session.get_one(Message, thread.inbound.id)
        message.text = HOSTILE
    async with browser(app) as site:
        await signed_in(site, org.admin)
        for path in ("/inbox", f"/conversations/{thread.id}"):
            r = await site.get(path)
            assert HOSTILE not in r.text and "&lt;img src=x onerror=" in r.text


async def test_the_stream_address_gives_a_short_lived_token(app, runtime, factory):
    org = await factory.org()
    async with browser(app) as site:
        await signed_in(site, org.admin)
        r = await site.get("/stream", headers={"Last-Event-ID": "42"})
        assert r.status_code == 307
        location = urlsplit(r.headers["location"])
        assert location.path == "/api/v1/events" and not location.netloc
        query = parse_qs(location.query)
        assert query["lastEventId"] == ["42"]
        claims = runtime.tokens.verify(query["token"][0], kind=EVENTS)
        assert (claims["sub"], claims["org"]) == (org.admin.id, org.id)
        assert site.cookies["cx_access"] not in r.headers["location"]
    async with browser(app) as stranger:
        assert (await stranger.get("/stream")).status_code == 401


async def test_language_switch_and_its_return_address(site):
    page = await site.get("/sign-in")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    r = await site.post("/language", data={"csrf": token, "language": "es", "next": "/sign-in"})
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in")
    assert ">Entrar</button>" in (await site.get("/sign-in")).text
    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = await site.post("/language", data={"csrf": token, "language": "en", "next": hostile})
        assert r.headers["location"] == "/"
    r = await site.post("/language", data={"csrf": token, "language": "xx", "next": "/sign-in"})
    assert ">Sign in</button>" in (await site.get("/sign-in")).text


async def test_static_files_are_served_with_cache_headers(site):
    for name in ("htmx.min.js", "htmx-ext-sse.min.js", "modern-normalize.css", "console.css"):
        r = await site.get(static_url(name))
        assert r.status_code == 200 and r.content == ASSETS[name].body
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        again = await site.get(f"/static/{name}", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and "must-revalidate" in again.headers["cache-control"]
    head = await site.head(static_url("htmx.min.js"))
    assert head.status_code == 200 and head.headers["etag"] == ASSETS["htmx.min.js"].etag
    assert (await site.get("/static/VENDORED.md")).status_code == 404
    assert (await site.get("/static/..%2Fpages.py")).status_code == 404


async def test_the_timeline_shows_media_locations_reactions_and_failures(app, runtime, graph, factory):
    org = await factory.org()
    thread = await make_thread(runtime, graph, org)
    key = f"inbound-media/{org.id}/photo.png"
    await runtime.storage.save(key, b"\x89PNG\r\n\x1a\n-picture", "image/png")
    async with runtime.unit_of_work() as session:
        common = {"organization_id": org.id, "conversation_id": thread.id}
        session.add_all(
            [
                Message(
                    **common,
                    direction=Direction.INBOUND,
                    sender_type=SenderType.CUSTOMER,
                    type=MessageType.IMAGE,
                    media={"storageKey": key, "mimeType": "image/png", "state": "DOWNLOADED"},
                    status=MessageStatus.RECEIVED,
                ),
                Message(
                    **common,
                    direction=Direction.INBOUND,
                    sender_type=SenderType.CUSTOMER,
                    type=MessageType.DOCUMENT,
                    media={"mimeType": "application/pdf", "state": "FAILED", "filename": "bill.pdf"},
                    status=MessageStatus.RECEIVED,
                ),
                Message(
                    **common,
                    direction=Direction.INBOUND,
                    sender_type=SenderType.CUSTOMER,
                    type=MessageType.LOCATION,
                    payload={"location": {"latitude": 19.43, "longitude": -99.13}},
                    status=MessageStatus.RECEIVED,
                ),
                Message(
                    **common,
                    direction=Direction.OUTBOUND,
                    sender_type=SenderType.AGENT,
                    type=MessageType.TEXT,
                    text="Your order is late",
                    status=MessageStatus.FAILED,
                    error={"code": 131026, "message": "Message undeliverable"},
                ),
            ]
        )
    async with browser(app) as site:
        await signed_in(site, org.admin)
        timeline = await site.get(f"/conversations/{thread.id}/timeline", headers=HTMX)
        html = timeline.text
        image = re.search(r'<img src="([^"]+)"', html)
        assert image and image.group(1).startswith("/api/v1/files/inbound-media/")  # our own origin
        picture = await site.get(image.group(1).replace("&amp;", "&"))
        assert picture.status_code == 200 and picture.content.endswith(b"-picture")
        assert "The attachment could not be downloaded." in html
        assert "Location: 19.43, -99.13" in html
        assert "Not delivered: Message undeliverable" in html and "Failed" in html
