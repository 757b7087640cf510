"""The composer's attachments (sent as ``POST /conversations/{id}/messages/media`` sends them) and
the person's presence (set in the header as ``PATCH /users/{id}/status`` sets it, shown to the
others on the team page and in the assignment list)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cxinbox.models.identity import Presence, Role, User
from cxinbox.models.inbox import Message, MessageStatus, MessageType
from tests.fixtures.sending import make_thread, until_status
from tests.web.helpers import HTMX, browser, signed_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _files_of(runtime, conversation_id: str) -> list[Message]:
    async with runtime.sessionmaker() as session:
        found = await session.scalars(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.type != MessageType.TEXT
            )
        )
        return list(found)


async def test_an_agent_sends_a_file_with_a_caption(app, runtime, graph, factory):
    org = await factory.org()
    async with browser(app) as site:
        token, thread = await signed_in(site, org.admin), await make_thread(runtime, graph, org)
        composer = await site.get(f"/conversations/{thread.id}/composer", headers=HTMX)
        assert (
            '<label for="attachment-file">' in composer.text
            and 'enctype="multipart/form-data"' in composer.text
        )
        form = {"csrf": token, "caption": "The damaged box", "idempotency_key": "f1"}
        files = {"file": ("box.png", PNG, "image/png")}
        sent = await site.post(f"/conversations/{thread.id}/media", data=form, files=files, headers=HTMX)
        assert sent.status_code == 200, sent.text
        assert "File sent." in sent.text and 'id="composer"' in sent.text
        assert sent.headers["HX-Trigger"] == '{"conversation-changed": true}'
        again = await site.post(f"/conversations/{thread.id}/media", data=form, files=files, headers=HTMX)
        assert again.status_code == 200  # the same form posted twice sends once
    [message] = await _files_of(runtime, thread.id)
    assert (message.type, message.media["caption"], message.media["size"]) == (
        MessageType.IMAGE,
        "The damaged box",
        len(PNG),
    )
    await until_status(runtime, message.id, MessageStatus.SENT)
    [request] = graph.sent_by(thread.number)
    assert request["image"]["caption"] == "The damaged box"


async def test_a_file_is_refused_as_the_api_refuses_it(app, runtime, graph, factory):
    org = await factory.org()
    thread = await make_thread(runtime, graph, org)
    shut = await make_thread(runtime, graph, org, account=thread.account, last_inbound=timedelta(hours=30))
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        path = f"/conversations/{thread.id}/media"
        program = {"file": ("tool.exe", b"MZ\x90\x00", "application/x-msdownload")}
        refused = await site.post(path, data={"csrf": token}, files=program)  # a plain form: the page
        assert refused.status_code == 415 and 'role="alert"' in refused.text
        inline = await site.post(path, data={"csrf": token}, files=program, headers=HTMX)  # htmx: the part
        assert inline.status_code == 200 and 'role="alert"' in inline.text and "File sent." not in inline.text
        assert "HX-Trigger" not in inline.headers
        empty = await site.post(path, data={"csrf": token})
        assert empty.status_code == 400 and "Choose a file to send" in empty.text
        audio = {"file": ("voice.ogg", b"OggS" + b"\x00" * 32, "audio/ogg")}
        captioned = await site.post(path, data={"csrf": token, "caption": "hi"}, files=audio)
        assert captioned.status_code == 400 and "take no caption" in captioned.text
        forged = await site.post(path, files={"file": ("box.png", PNG, "image/png")})
        assert forged.status_code == 403
        closed = await site.post(
            f"/conversations/{shut.id}/media",
            data={"csrf": token},
            files={"file": ("box.png", PNG, "image/png")},
        )
        assert closed.status_code == 409 and "24-hour" in closed.text
        other = await make_thread(runtime, graph, await factory.org())
        stranger = await site.post(
            f"/conversations/{other.id}/media",
            data={"csrf": token},
            files={"file": ("box.png", PNG, "image/png")},
        )
        assert stranger.status_code == 404
    assert await _files_of(runtime, thread.id) == [] and await _files_of(runtime, other.id) == []
    assert graph.attempts_by(thread.number) == []


async def test_an_agent_cannot_send_to_a_conversation_of_someone_else(app, runtime, graph, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    colleague = await factory.member(org.id, Role.AGENT)
    theirs = await make_thread(runtime, graph, org, assigned_to_id=colleague.id)
    async with browser(app) as site:
        token = await signed_in(site, agent)
        r = await site.post(
            f"/conversations/{theirs.id}/media",
            data={"csrf": token},
            files={"file": ("box.png", PNG, "image/png")},
        )
        assert r.status_code == 404
    assert await _files_of(runtime, theirs.id) == []


async def _presence(runtime, user_id: str) -> Presence:
    async with runtime.sessionmaker() as session:
        return (await session.get_one(User, user_id)).status


async def test_a_person_sets_their_presence_and_the_others_see_it(app, runtime, graph, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    thread = await make_thread(runtime, graph, org)
    async with browser(app, language="es") as site:
        token = await signed_in(site, agent)
        inbox = await site.get("/inbox")
        assert '<select id="presence-choice" name="presence">' in inbox.text
        r = await site.post("/presence", data={"csrf": token, "presence": "BUSY", "next": "/inbox"})
        assert (r.status_code, r.headers["location"]) == (303, "/inbox")
        assert await _presence(runtime, agent.id) is Presence.BUSY
        assert '<option value="BUSY" selected>Ocupado</option>' in (await site.get("/inbox")).text
        for hostile in ({"presence": "INVISIBLE"}, {"presence": "BUSY", "next": "//evil.example"}):
            r = await site.post("/presence", data={"csrf": token, **hostile})
            assert (r.status_code, r.headers["location"]) == (303, "/")
        assert await _presence(runtime, agent.id) is Presence.BUSY
        forged = await site.post("/presence", data={"presence": "OFFLINE"})
        assert forged.status_code == 403 and await _presence(runtime, agent.id) is Presence.BUSY
    async with browser(app) as site:
        await signed_in(site, org.admin)
        team = await site.get("/team")
        assert '<span class="presence-busy">Busy</span>' in team.text
        page = await site.get(f"/conversations/{thread.id}")
        assert f"{agent.user.name} (Busy)</option>" in page.text


async def test_presence_needs_a_signed_in_member(app, runtime, factory):
    async with browser(app) as site:
        page = await site.get("/sign-in")
        assert "presence-choice" not in page.text
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = await site.post("/presence", data={"csrf": token, "presence": "ONLINE"})
        assert (r.status_code, r.headers["location"]) == (303, "/sign-in")
    admin = await factory.super_admin()
    async with browser(app) as site:
        await signed_in(site, admin)
        assert "presence-choice" not in (await site.get("/inbox")).text
