"""Header media: through Meta's Resumable Upload API, kept here and served publicly under an id
nobody can guess; a template with that header is sent by link to it."""

from __future__ import annotations

import base64

import pytest

from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import error_code
from tests.fixtures.wait import eventually
from tests.fixtures.whatsapp import connect_number
from tests.templates.helpers import BODY, meta_says

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


async def _upload(client, member, data=PNG, name="banner.png", **form):
    return await client.post(
        "/templates/upload-media", files={"file": (name, data)}, data=form, headers=member.headers
    )


async def test_upload_goes_through_resumable_upload_and_is_served(inbox, client, graph):
    r = await _upload(client, inbox.admin)
    assert r.status_code == 200, r.text
    uploaded = r.json()["data"]
    assert graph.templates.state.handles[uploaded["handle"]] == PNG
    opened = graph.templates.calls_to("POST")[-1]
    assert opened[1].endswith("/test-meta-app/uploads")
    assert opened[2] == {"file_name": "banner.png", "file_length": str(len(PNG)), "file_type": "image/png"}
    assert uploaded["url"] == f"http://cxinbox.test/api/v1/templates/{uploaded['mediaId']}/header-media"
    assert len(uploaded["mediaId"]) >= 48
    r = await client.get(f"/templates/{uploaded['mediaId']}/header-media")  # no token: WhatsApp fetches it
    assert (r.status_code, r.content, r.headers["content-type"]) == (200, PNG, "image/png")
    assert r.headers["content-security-policy"].startswith("sandbox")
    media_id = uploaded["mediaId"]
    neighbour = media_id[:-1] + ("1" if media_id[-1] == "0" else "0")  # one character off
    for guess in ("1", neighbour, "../../etc/passwd", inbox.account.id):
        assert (await client.get(f"/templates/{guess}/header-media")).status_code in (400, 404), guess


async def test_a_media_header_template_is_sent_by_link(inbox, client, graph, runtime):
    uploaded = (await _upload(client, inbox.admin, PDF, "menu.pdf")).json()["data"]
    header = {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": [uploaded["handle"]]}}
    body = {"name": "menu", "language": "en_US", "category": "MARKETING", "components": [header, BODY]}
    r = await client.post("/templates", json=body, headers=inbox.admin.headers)
    assert r.status_code == 201, r.text
    await meta_says(client, runtime, inbox.account.waba_id, r.json()["data"], "APPROVED")
    conversation_id = await inbox.in_team()
    send = {"conversationId": conversation_id, "variables": {"body": ["Ana", "A-1"]}}
    r = await client.post("/templates/menu/send", json=send, headers=inbox.agent.headers)
    assert r.status_code == 201, r.text

    def sent():
        return [m for m in graph.sent_by(inbox.account.phone_number_id) if m.get("type") == "template"]

    await eventually(lambda: len(sent()) == 1, "the template is sent")
    assert sent()[0]["template"]["components"][0] == {
        "type": "header",
        "parameters": [{"type": "document", "document": {"link": uploaded["url"]}}],
    }
    # a link of the sender's own choosing must be https
    send["variables"]["header"] = "http://insecure.example/menu.pdf"
    r = await client.post("/templates/menu/send", json=send, headers=inbox.agent.headers)
    assert r.status_code == 400


async def test_upload_refusals(inbox, client, runtime, factory, graph, monkeypatch):
    r = await _upload(client, inbox.admin, b"just some text", "notes.txt")
    assert r.status_code == 415 and error_code(r) == "UNSUPPORTED_MEDIA_TYPE"
    too_big = PNG + b"\x00" * (5 * 1024 * 1024)
    calls = len(graph.templates.state.calls)
    r = await _upload(client, inbox.admin, too_big)
    assert r.status_code == 413 and error_code(r) == "PAYLOAD_TOO_LARGE"
    assert len(graph.templates.state.calls) == calls
    assert (await _upload(client, inbox.agent)).status_code == 403
    assert (await _upload(client, inbox.supervisor)).status_code == 403
    assert (await client.post("/templates/upload-media", files={"file": ("a.png", PNG)})).status_code == 401
    r = await client.post("/templates/upload-media", headers=inbox.admin.headers)
    assert r.status_code == 400
    other = await factory.org()
    await connect_number(runtime, graph, other.id)
    r = await _upload(client, other.admin, whatsappAccountId=inbox.account.id)
    assert r.status_code == 404
    monkeypatch.setattr(runtime.settings, "meta_app_id", None)
    r = await _upload(client, inbox.admin)
    assert r.status_code == 503 and error_code(r) == "META_APP_NOT_CONFIGURED"
