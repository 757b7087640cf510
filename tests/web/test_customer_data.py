"""The conversation page's contact panel: each data source's fields for the contact (as
``GET /inbox-data-sources/data/{conversationId}``), a refresh past the cache, a failing service shown
as failed, and nothing for a conversation the person does not see."""

from __future__ import annotations

import pytest

from tests.fixtures.inbox import Inbox, make_inbox
from tests.knowledge.test_data_sources import ACCOUNT, create_source
from tests.tools.conftest import business_api
from tests.tools.helpers import make_connection
from tests.web.helpers import HTMX, browser, signed_in

__all__ = ["business_api"]


@pytest.fixture
async def inbox(client, runtime, factory, graph) -> Inbox:
    return await make_inbox(client, runtime, factory, graph)


async def test_an_agent_reads_the_customers_data_beside_the_conversation(app, client, inbox, business_api):
    connection = await make_connection(client, inbox.admin, business_api, baseUrl=business_api.url)
    await create_source(client, inbox, connection["id"])
    conversation_id = await inbox.in_team(wa_id="5215512340001")
    business_api.accounts["5512340001"] = {**ACCOUNT, "fullName": "<b>Ana</b> López"}
    async with browser(app) as site:
        await signed_in(site, inbox.agent)
        page = await site.get(f"/conversations/{conversation_id}")
        assert f'hx-get="/conversations/{conversation_id}/customer-data"' in page.text
        panel = await site.get(f"/conversations/{conversation_id}/customer-data", headers=HTMX)
        assert panel.status_code == 200, panel.text
        assert "<dt>Cliente</dt><dd>&lt;b&gt;Ana&lt;/b&gt; López</dd>" in panel.text  # escaped
        assert "<dt>Saldo</dt><dd>120.5</dd>" in panel.text and "found" in panel.text
        calls = business_api.count()
        again = await site.get(f"/conversations/{conversation_id}/customer-data", headers=HTMX)
        assert "cached" in again.text and business_api.count() == calls
        forced = await site.get(f"/conversations/{conversation_id}/customer-data?force=true", headers=HTMX)
        assert "cached" not in forced.text and business_api.count() == calls + 1
        business_api.accounts.clear()
        missing = await site.get(f"/conversations/{conversation_id}/customer-data?force=true", headers=HTMX)
        assert "not found" in missing.text


async def test_the_panel_follows_the_inbox_visibility_rule(app, client, factory, inbox, business_api):
    connection = await make_connection(client, inbox.admin, business_api, baseUrl=business_api.url)
    await create_source(client, inbox, connection["id"])
    conversation_id = await inbox.in_team(wa_id="5215512340002")
    stranger = await factory.org()
    calls = business_api.count()
    async with browser(app) as site:
        await signed_in(site, inbox.outsider)  # an agent in no team does not see the team's conversations
        assert (await site.get(f"/conversations/{conversation_id}/customer-data")).status_code == 404
    async with browser(app) as site:
        await signed_in(site, stranger.admin)
        r = await site.get(f"/conversations/{conversation_id}/customer-data")
        assert r.status_code == 404 and "Cliente" not in r.text
    assert business_api.count() == calls  # nobody's number was looked up


async def test_without_sources_the_panel_says_so(app, inbox):
    conversation_id = await inbox.in_team()
    async with browser(app, language="es") as site:
        await signed_in(site, inbox.agent)
        panel = await site.get(f"/conversations/{conversation_id}/customer-data", headers=HTMX)
        assert panel.status_code == 200 and "No hay fuentes de datos" in panel.text
