"""Who may read which figures, and the range's validation: every endpoint, every refusal in the
error envelope."""

from __future__ import annotations

import pytest

from tests.analytics.history import RANGE
from tests.fixtures.api import create_api_key
from tests.fixtures.errors import bad_fields, error_of

READS = ("overview", "conversations", "agents", "bot", "campaigns", "ai-status")
MANAGERS_ONLY = ("overview", "conversations", "bot", "campaigns")
RANGED = ("overview", "conversations", "agents", "bot", "campaigns")


@pytest.mark.parametrize("path", READS)
async def test_no_token(client, path):
    error_of(await client.get(f"/analytics/{path}"), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("path", ("ai-query", "ai-toggle"))
async def test_no_token_on_the_writes(client, path):
    error_of(await client.post(f"/analytics/{path}", json={"question": "?"}), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("path", MANAGERS_ONLY)
async def test_an_agent_reads_no_organization_figures(client, history, path):
    error_of(await client.get(f"/analytics/{path}", headers=history.agent.headers), 403, "FORBIDDEN")


async def test_only_an_admin_toggles_ai_and_agents_do_not_ask(client, history):
    for member in (history.agent, history.supervisor):
        error_of(await client.post("/analytics/ai-toggle", headers=member.headers), 403, "FORBIDDEN")
    r = await client.post(
        "/analytics/ai-query", json={"question": "How many?"}, headers=history.agent.headers
    )
    error_of(r, 403, "FORBIDDEN")


async def test_an_agent_reads_the_ai_status(client, history):
    r = await client.get("/analytics/ai-status", headers=history.agent.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"available": False, "enabled": False, "reason": "DISABLED"}


@pytest.mark.parametrize("path", RANGED)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"from": "2026-03-10T00:00:00Z", "to": "2026-03-09T00:00:00Z"}, "from"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
    ],
)
async def test_a_bad_range_is_a_400(client, history, path, params, field):
    r = await client.get(f"/analytics/{path}", params=params, headers=history.org.admin.headers)
    assert field in bad_fields(r)


async def test_the_defaults_are_the_last_30_days_in_mexico_city(client, history):
    r = await client.get("/analytics/overview", headers=history.org.admin.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["range"]["timezone"] == "America/Mexico_City"
    assert data["range"]["granularity"] == "day"
    assert len(data["series"]) == 31  # 30 days from now back: the first and last days are partial


async def test_an_api_key_needs_the_analytics_scope(client, history):
    key = await create_api_key(client, history.org.admin.headers, scopes=["conversations:read"])
    r = await client.get("/analytics/overview", params=RANGE, headers={"X-API-Key": key["key"]})
    error_of(r, 403, "FORBIDDEN")
    key = await create_api_key(client, history.org.admin.headers, scopes=["analytics:read"])
    r = await client.get("/analytics/overview", params=RANGE, headers={"X-API-Key": key["key"]})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["conversations"] == {"new": 4, "closed": 3}
    r = await client.post("/analytics/ai-toggle", headers={"X-API-Key": key["key"]})
    error_of(r, 403, "FORBIDDEN")
