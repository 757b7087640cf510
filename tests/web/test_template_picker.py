"""The template picker of a conversation whose 24-hour window has closed: free text is off, the
number's APPROVED templates are offered with a field per value, and the chosen one is sent through
the template send path (the fake Graph API receives it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cxinbox.core.clock import utcnow
from cxinbox.models.inbox import Message
from tests.fixtures.inbox import make_inbox, set_fields
from tests.fixtures.wait import eventually
from tests.templates.helpers import approved, create
from tests.web.helpers import HTMX, browser, signed_in


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    inbox = await make_inbox(client, runtime, factory, graph)
    await approved(client, runtime, inbox.account.waba_id, inbox.admin)
    await create(client, inbox.admin, "still_pending")
    return inbox


async def _closed_conversation(inbox) -> str:
    conversation_id = await inbox.in_team()
    await set_fields(inbox.runtime, conversation_id, last_inbound_at=utcnow() - timedelta(hours=25))
    return conversation_id


def _sent(graph, inbox):
    return [m for m in graph.sent_by(inbox.account.phone_number_id) if m.get("type") == "template"]


async def test_the_agent_sends_an_approved_template_once_the_window_closed(app, inbox, graph):
    conversation_id = await _closed_conversation(inbox)
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.agent)
        page = await site.get(f"/conversations/{conversation_id}")
        assert page.status_code == 200
        assert 'name="text"' not in page.text and "disabled" in page.text
        assert "order_shipped" in page.text and "still_pending" not in page.text
        assert page.text.count('name="body_') == 2 and "Hi {{1}}, your order {{2}} has shipped." in page.text
        form = {"csrf": csrf, "name": "order_shipped", "language": "en_US", "idempotency_key": "k1"}
        r = await site.post(
            f"/conversations/{conversation_id}/template",
            data={**form, "body_1": "Ana", "body_2": "A-1001"},
            headers=HTMX,
        )
        assert r.status_code == 200 and "Template sent." in r.text, r.text
    await eventually(lambda: len(_sent(graph, inbox)) == 1, "the template is sent")
    (sent,) = _sent(graph, inbox)
    assert sent["template"]["name"] == "order_shipped"
    assert sent["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Ana"},
        {"type": "text", "text": "A-1001"},
    ]
    async with inbox.runtime.sessionmaker() as session:
        texts = (
            await session.scalars(
                select(Message.text).where(
                    Message.conversation_id == conversation_id, Message.type == "template"
                )
            )
        ).all()
    assert texts == ["Your order\n\nHi Ana, your order A-1001 has shipped.\n\nThanks"]


async def test_wrong_values_a_template_not_approved_and_another_organization(
    app, inbox, client, factory, graph
):
    conversation_id = await _closed_conversation(inbox)
    other = await make_inbox(client, inbox.runtime, factory, graph)
    theirs = await _closed_conversation(other)
    async with browser(app, language="es") as site:
        csrf = await signed_in(site, inbox.agent)
        form = {"csrf": csrf, "name": "order_shipped", "language": "en_US"}
        r = await site.post(f"/conversations/{conversation_id}/template", data={**form, "body_1": "Ana"})
        assert r.status_code == 400 and "variables.body" in r.text, r.text
        r = await site.post(
            f"/conversations/{conversation_id}/template",
            data={**form, "body_1": "<script>x</script>", "body_2": "   "},
            headers=HTMX,
        )
        assert r.status_code == 200 and "variables.body[1]" in r.text and "<script>x" not in r.text
        r = await site.post(
            f"/conversations/{conversation_id}/template",
            data={**form, "name": "still_pending", "body_1": "a", "body_2": "b"},
        )
        assert r.status_code == 404
        r = await site.post(
            f"/conversations/{conversation_id}/template", data={**form, "language": "not a language"}
        )
        assert r.status_code == 400
        r = await site.post(f"/conversations/{theirs}/template", data={**form, "body_1": "a", "body_2": "b"})
        assert r.status_code == 404
        r = await site.post(
            f"/conversations/{conversation_id}/template",
            data={**{k: v for k, v in form.items() if k != "csrf"}},
        )
        assert r.status_code == 403
    assert _sent(graph, inbox) == [] and _sent(graph, other) == []
