"""Every figure of the known history (``history.py``), worked out by hand, over real HTTP."""

from __future__ import annotations

import pytest

from tests.analytics.history import RANGE, ZONE

pytestmark = pytest.mark.usefixtures("history")


async def get(client, path, member, **params):
    r = await client.get(f"/analytics/{path}", params={**RANGE, **params}, headers=member.headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_overview(client, history):
    data = await get(client, "overview", history.org.admin)
    assert data["range"] == {
        "from": "2026-03-07T05:00:00Z",
        "to": "2026-03-10T04:00:00Z",
        "timezone": ZONE,
        "granularity": "day",
    }
    assert data["conversations"] == {"new": 4, "closed": 3}
    assert data["messages"] == {"inbound": 5, "outbound": 5}
    assert data["firstResponse"] == {
        "count": 3,
        "unanswered": 1,
        "p50Seconds": 60.0,
        "p90Seconds": 120.0,
        "meanSeconds": 70.0,
    }
    assert data["resolution"] == {
        "count": 3,
        "p50Seconds": 7200.0,
        "p90Seconds": 259200.0,
        "meanSeconds": 91200.0,
    }
    assert data["bot"] == {
        "conversations": 2,
        "handedOff": 1,
        "resolved": 1,
        "resolutionRate": 0.5,
        "handoffRate": 0.5,
    }


async def test_the_series_follows_new_york_days_across_the_clock_change(client, history):
    series = (await get(client, "overview", history.supervisor))["series"]
    assert [(p["start"], p["end"], p["localStart"]) for p in series] == [
        ("2026-03-07T05:00:00Z", "2026-03-08T05:00:00Z", "2026-03-07T00:00:00-05:00"),
        ("2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", "2026-03-08T00:00:00-05:00"),  # 23 hours
        ("2026-03-09T04:00:00Z", "2026-03-10T04:00:00Z", "2026-03-09T00:00:00-04:00"),
    ]
    columns = ("newConversations", "closedConversations", "inboundMessages", "outboundMessages")
    assert [[p[c] for p in series] for c in columns] == [
        [2, 1, 1],  # C1 and C2 (23:30 EST) on the 7th; C4; C3 (00:30 EDT) on the 9th
        [1, 1, 1],  # C1; C2 at 01:30 EST on the 8th; C5
        [2, 2, 1],
        [2, 1, 2],  # C4's automatic reply counts as outbound
    ]


async def test_a_fixed_offset_cuts_other_days(client, history):
    """The same range read at UTC-5 all along puts C3 (04:30Z on the 9th) on the 8th, and ends an
    hour later, which takes in C6."""
    data = await get(client, "overview", history.org.admin, timezone="Etc/GMT+5", to="2026-03-10T00:00:00")
    assert [p["newConversations"] for p in data["series"]] == [2, 2, 1]


async def test_hours_across_the_autumn_change(client, history):
    data = await get(
        client, "overview", history.org.admin, **{"from": "2026-11-01T00:00:00", "to": "2026-11-02T00:00:00"}
    )
    assert data["range"]["granularity"] == "hour"
    starts = [p["localStart"] for p in data["series"]]
    assert len(starts) == 25
    assert starts[:3] == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
    ]
    assert starts[-1] == "2026-11-01T23:00:00-05:00"


async def test_conversations(client, history):
    data = await get(client, "conversations", history.org.admin)
    assert data["totals"] == {"new": 4, "closed": 3}
    assert data["firstResponse"]["p50Seconds"] == 60.0
    assert data["resolution"]["meanSeconds"] == 91200.0
    assert {c["key"]: c["count"] for c in data["byCategory"]} == {None: 3, "billing": 1}
    assert {c["key"]: c["count"] for c in data["byStatus"]} == {"CLOSED": 2, "HUMAN_HANDLING": 1, "OPEN": 1}
    assert data["byTeam"] == [{"key": None, "count": 4}]
    assert data["byOrigin"] == [{"key": "INBOUND", "count": 4}]
    assert [p["newConversations"] for p in data["series"]] == [2, 1, 1]


async def test_agents_as_an_admin_and_a_supervisor(client, history):
    for member in (history.org.admin, history.supervisor):
        rows = {r["userId"]: r for r in (await get(client, "agents", member))["agents"]}
        assert set(rows) == {
            history.org.admin.id,
            history.agent.id,
            history.agent_two.id,
            history.supervisor.id,
        }
        a1, a2 = rows[history.agent.id], rows[history.agent_two.id]
        assert (a1["assigned"], a1["resolved"], a1["messagesSent"]) == (1, 2, 1)
        assert a1["firstResponse"] == {
            "count": 1,
            "p50Seconds": 60.0,
            "p90Seconds": 60.0,
            "meanSeconds": 60.0,
        }
        assert (a2["assigned"], a2["resolved"], a2["messagesSent"]) == (1, 0, 1)
        assert a2["firstResponse"]["p50Seconds"] == 600.0
        assert rows[history.org.admin.id]["assigned"] == 0


async def test_an_agent_sees_only_their_own_row(client, history):
    rows = (await get(client, "agents", history.agent_two))["agents"]
    assert [r["userId"] for r in rows] == [history.agent_two.id]
    assert rows[0]["assigned"] == 1


async def test_campaigns(client, history):
    data = await get(client, "campaigns", history.org.admin)
    assert data["campaigns"] == 1
    assert data["totals"] == {
        "recipients": 6,
        "pending": 1,
        "sent": 4,
        "delivered": 3,
        "read": 2,
        "replied": 1,
        "failed": 1,
        "estimatedCost": 0.5,
        "spent": 0.3,
        "costPerDelivered": 0.1,
        "deliveryRate": 0.75,
        "readRate": 0.6667,
        "replyRate": 0.3333,
    }
    [row] = data["byCampaign"]
    assert row["name"] == "Campaign 2026-03-08T12:00:00" and row["recipients"] == 6


async def test_the_other_organization_sees_only_its_own(client, history):
    data = await get(client, "overview", history.other.admin)
    assert data["conversations"] == {"new": 4, "closed": 4}
    assert data["messages"] == {"inbound": 4, "outbound": 8}
    assert data["firstResponse"]["p50Seconds"] == 5.0
    rows = (await get(client, "agents", history.other.admin))["agents"]
    assert {r["userId"] for r in rows} == {history.other.admin.id, history.other_agent.id}
    assert rows and all(r["userId"] not in (history.agent.id, history.agent_two.id) for r in rows)
    campaigns = await get(client, "campaigns", history.other.admin)
    assert campaigns["totals"]["recipients"] == 2 and campaigns["totals"]["spent"] == 5.0


async def test_an_empty_range(client, history):
    data = await get(
        client, "overview", history.org.admin, **{"from": "2025-01-01T00:00:00", "to": "2025-01-05T00:00:00"}
    )
    assert data["conversations"] == {"new": 0, "closed": 0}
    assert data["firstResponse"] == {
        "count": 0,
        "unanswered": 0,
        "p50Seconds": None,
        "p90Seconds": None,
        "meanSeconds": None,
    }
    assert data["bot"]["resolutionRate"] is None
    assert len(data["series"]) == 4
