"""The analytics page: KPIs, the chart's figures and the agents' and teams' tables over a date range,
counted by the analytics services from conversations made through the webhook; roles; a range the
form gets wrong is read sensibly, never a server error."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from cxinbox.core.clock import utcnow
from tests.fixtures.inbox import make_inbox
from tests.web.helpers import browser, signed_in


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


def _chart(page: str) -> dict:
    match = re.search(r"data-chart='([^']*)'", page)
    assert match, "the page has no chart"
    return json.loads(unescape(match.group(1)))


async def test_the_supervisor_sees_the_figures_of_the_range(app, inbox):
    now = int(utcnow().timestamp())
    for i in range(3):
        await inbox.customer_writes(f"Hello {i}", timestamp=now - 60 * (i + 1))
    async with browser(app) as site:
        await signed_in(site, inbox.supervisor)
        page = await site.get("/analytics")
        assert page.status_code == 200, page.text
        assert re.search(r"<dt>New conversations</dt><dd>3</dd>", page.text)
        assert re.search(r"<dt>Messages received</dt><dd>3</dd>", page.text)
        chart = _chart(page.text)
        assert sum(chart["newConversations"]) == 3 and len(chart["x"]) == len(chart["inbound"]) == 30
        assert chart["labels"]["inbound"] == "Messages received"
        assert "uPlot.iife.min.js" in page.text and "analytics.js" in page.text
        assert inbox.agent.user.name in page.text  # the agents' table
        today = utcnow().date().isoformat()
        one_day = await site.get(f"/analytics?from={today}&to={today}")
        assert len(_chart(one_day.text)["x"]) == 24  # hours when the range is one day
        for query in (
            "from=2020-13-45&to=x",
            "from=2026-12-31&to=2020-01-01",
            "from=1900-01-01",
            "to=9999-12-31",
        ):
            r = await site.get(f"/analytics?{query}")
            assert r.status_code == 200, (query, r.text)
    async with browser(app, language="es") as site:
        await signed_in(site, inbox.admin)
        page = await site.get("/analytics")
        assert (
            "Conversaciones nuevas" in page.text
            and _chart(page.text)["labels"]["inbound"] == "Mensajes recibidos"
        )


async def test_an_agent_may_not_open_it_and_another_organization_counts_apart(
    app, inbox, client, runtime, factory, graph
):
    other = await make_inbox(client, runtime, factory, graph)
    await other.customer_writes("Theirs", timestamp=int(utcnow().timestamp()) - 30)
    async with browser(app) as site:
        await signed_in(site, inbox.agent)
        r = await site.get("/analytics")
        assert r.status_code == 403 and "New conversations" not in r.text
    async with browser(app) as site:
        await signed_in(site, inbox.admin)
        page = await site.get("/analytics")
        assert sum(_chart(page.text)["newConversations"]) == 0 and other.agent.user.name not in page.text
