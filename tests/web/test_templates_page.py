"""The templates page: templates with their status, saving a draft and submitting it to Meta (the
fake Graph API), through the console's forms."""

from __future__ import annotations

import pytest

from tests.fixtures.inbox import make_inbox
from tests.web.helpers import browser, signed_in

HOSTILE = "<script>alert(1)</script> {{1}}"


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


def _draft(csrf: str, name: str, body: str = "Tu pedido {{1}} va en camino.") -> dict[str, str]:
    return {"csrf": csrf, "name": name, "category": "UTILITY", "language": "es_MX", "body": body}


async def test_the_admin_saves_a_draft_and_submits_it_to_meta(app, inbox, client, graph):
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.admin)
        r = await site.post("/templates", data=_draft(csrf, "order_shipped", "Tu pedido va en camino."))
        assert r.status_code == 303 and r.headers["location"] == "/templates?done=draft_saved", r.text
        page = await site.get(r.headers["location"])
        assert "Draft saved." in page.text and "order_shipped" in page.text and "DRAFT" in page.text
        template = (await client.get("/templates?status=all", headers=inbox.admin.headers)).json()["data"][0]
        r = await site.post(f"/templates/{template['id']}/submit", data={"csrf": csrf})
        assert r.status_code == 303 and "Submitted to Meta" in (await site.get(r.headers["location"])).text
    sent = graph.templates.calls_to("POST")[-1][3]
    assert sent["name"] == "order_shipped" and sent["components"][0]["text"] == "Tu pedido va en camino."
    r = await client.get("/templates?status=all", headers=inbox.admin.headers)
    assert r.json()["data"][0]["status"] == "PENDING"


async def test_bad_input_hostile_text_and_another_organizations_template(app, inbox, client, factory, graph):
    other = await make_inbox(client, inbox.runtime, factory, graph)
    body = {"name": "theirs", "category": "UTILITY", "components": [{"type": "BODY", "text": "x"}]}
    r = await client.post("/templates/draft", json=body, headers=other.admin.headers)
    theirs = r.json()["data"]["id"]
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.admin)
        r = await site.post("/templates", data=_draft(csrf, "Not A Name!"))
        assert r.status_code == 400 and "Check the template" in r.text
        r = await site.post("/templates", data=_draft(csrf, "hostile", HOSTILE))
        assert r.status_code == 303
        template = (await client.get("/templates?status=all", headers=inbox.admin.headers)).json()["data"][0]
        r = await site.post(f"/templates/{template['id']}/submit", data={"csrf": csrf})
        assert r.status_code == 400 and "That did not work" in r.text  # a variable ends the body
        assert "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text
        r = await site.post(f"/templates/{theirs}/submit", data={"csrf": csrf})
        assert r.status_code == 404


async def test_an_agent_sees_approved_templates_only_and_may_not_change_them(app, inbox, client):
    body = {"name": "draft_only", "category": "UTILITY", "components": [{"type": "BODY", "text": "x"}]}
    draft = (await client.post("/templates/draft", json=body, headers=inbox.admin.headers)).json()["data"]
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.supervisor)
        page = await site.get("/templates")
        assert page.status_code == 200 and "draft_only" in page.text and 'action="/templates' not in page.text
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.agent)
        page = await site.get("/templates")
        assert page.status_code == 200 and "draft_only" not in page.text
        for path, data in (
            ("/templates", _draft(csrf, "x")),
            (f"/templates/{draft['id']}/submit", {"csrf": csrf}),
        ):
            r = await site.post(path, data=data)
            assert r.status_code == 403 and "does not allow" in r.text
