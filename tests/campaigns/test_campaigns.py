"""Campaigns over HTTP against the fake Graph API: creation checks, each recipient sent exactly once
through the outbox, statuses and replies followed, pause and resume, budget, tier limit, throttling,
scheduling, reading, CSV, bulk actions, roles and another organization's ids."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from cxinbox.core.clock import utcnow
from cxinbox.models.identity import Plan
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.whatsapp.inbound.unrecorded_sends import callback_key
from cxinbox.whatsapp.outbound.delivery import sweep_outbox
from tests.campaigns.helpers import (
    campaign,
    create,
    phones,
    sends_per_number,
    set_tier,
    template,
    until,
)
from tests.fixtures.factories import update_rows
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import error_code, events_of
from tests.fixtures.runtimes import REDIS_URL, started_runtime
from tests.fixtures.sending import load_message, load_outbox, status_webhook
from tests.fixtures.whatsapp import deliver

pytestmark = pytest.mark.usefixtures("graph")


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


def _done(c):
    return c["status"] == "COMPLETED"


async def test_create_normalises_and_sends_each_recipient_once(inbox, client, runtime, graph):
    template_id = await template(inbox, client, runtime)
    numbers = phones(4)
    given = [
        {"phone": numbers[0], "name": "Ana", "variables": {"body": ["Ana", "A-100"]}},
        {"phone": numbers[1]},
        {"phone": numbers[0].replace("+", "00")},  # the same number again
        {"phone": "12"},
        {"phone": numbers[2]},
        {"phone": numbers[3]},
    ]
    body = {
        "name": "Shipping",
        "templateId": template_id,
        "recipients": given,
        "variables": {"body": ["x", "y"]},
    }
    r = await client.post("/campaigns", json=body, headers=inbox.admin.headers)
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    assert created["invalid"] == [{"index": 3, "phone": "12"}] and created["duplicates"] == 1
    assert created["status"] == "RUNNING" and created["counts"]["total"] == 4
    assert created["estimatedCost"] == pytest.approx(4 * 0.0068)

    done = await until(client, inbox.admin, created["id"], "campaign completed", _done)
    assert done["counts"]["sent"] == 4 and done["counts"]["pending"] == 0 and done["completedAt"]
    sends = sends_per_number(graph, inbox.account)
    assert sends == {n.lstrip("+"): 1 for n in numbers}
    first = next(s for s in graph.sent_by(inbox.account.phone_number_id) if s["to"] == numbers[0].lstrip("+"))
    params = first["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["Ana", "A-100"]  # the recipient's own values win
    recipients = {r["phone"]: r for r in done["recipients"]}
    assert recipients[numbers[0].lstrip("+")]["name"] == "Ana"
    assert all(r["status"] == "SENT" and r["sentAt"] for r in recipients.values())

    # statuses and a reply follow the message
    ana = recipients[numbers[0].lstrip("+")]
    message = await load_message(runtime, ana["messageId"])
    phone_id = inbox.account.phone_number_id
    await deliver(client, runtime, status_webhook(phone_id, message.wa_message_id, "delivered"))
    await deliver(client, runtime, status_webhook(phone_id, message.wa_message_id, "read"))
    await inbox.customer_writes("Thanks!", wa_id=numbers[0].lstrip("+"))
    r = await client.get(f"/campaigns/{created['id']}?status=REPLIED", headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    [replied] = r.json()["data"]["recipients"]
    assert (
        replied["status"] == "READ" and replied["readAt"] and replied["deliveredAt"] and replied["repliedAt"]
    )
    r = await client.get(f"/campaigns/{created['id']}/stats", headers=inbox.supervisor.headers)
    stats = r.json()["data"]
    assert stats["counts"] | {} == {
        "total": 4,
        "pending": 0,
        "sent": 4,
        "delivered": 1,
        "read": 1,
        "failed": 0,
        "unknown": 0,
        "replied": 1,
    }
    assert stats["deliveryRate"] == 0.25 and stats["replyRate"] == 1.0
    updates = await events_of(runtime, inbox.org.id, "campaign.updated")
    assert any(e["id"] == created["id"] and e["status"] == "COMPLETED" for e in updates)


async def test_values_are_checked_before_anything_is_stored(inbox, client, runtime):
    template_id = await template(inbox, client, runtime)
    body = {
        "name": "Bad values",
        "templateId": template_id,
        "recipients": [{"phone": p} for p in phones(2)],
        "variables": {"body": ["only one"]},
    }
    r = await client.post("/campaigns", json=body, headers=inbox.admin.headers)
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "variables.body"
    body["variables"] = {"body": ["a", "b"]}
    body["recipients"][1]["variables"] = {"body": ["a", "b", "c"]}
    r = await client.post("/campaigns", json=body, headers=inbox.admin.headers)
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "recipients[1].variables.body"
    body["recipients"] = [{"phone": "12"}, {"phone": "nope"}]
    r = await client.post("/campaigns", json=body, headers=inbox.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    r = await client.post(
        "/campaigns", json={"name": "x", "templateId": template_id}, headers=inbox.admin.headers
    )
    assert r.status_code == 400
    r = await client.get("/campaigns", headers=inbox.admin.headers)
    assert r.json()["data"] == [] and r.json()["meta"]["total"] == 0


async def test_template_must_be_approved(inbox, client, runtime):
    r = await client.post(
        "/templates/draft",
        json={"name": "a_draft", "category": "MARKETING", "components": [{}]},
        headers=inbox.admin.headers,
    )
    draft = r.json()["data"]["id"]
    body = {"name": "x", "templateId": draft, "recipients": [{"phone": phones(1)[0]}]}
    r = await client.post("/campaigns", json=body, headers=inbox.admin.headers)
    assert r.status_code == 409 and error_code(r) == "TEMPLATE_NOT_APPROVED"


async def test_budget_pauses_before_spending_more_and_resume_raises_it(inbox, client, runtime, graph):
    template_id = await template(inbox, client, runtime, "MARKETING")  # Brazil: 0.0625 each
    numbers = phones(5)
    created = await create(client, inbox.admin, template_id, numbers, budget=0.13)
    paused = await until(
        client,
        inbox.admin,
        created["id"],
        "paused by budget, its sends done",
        lambda c: c["status"] == "PAUSED" and c["counts"]["sent"] == 2,
    )
    assert paused["waitingReason"] == "BUDGET_REACHED" and paused["spent"] == pytest.approx(0.125)
    assert paused["counts"]["pending"] == 3
    assert sum(sends_per_number(graph, inbox.account).values()) == 2
    bulk = {"action": "resume", "selection": {"mode": "ids", "ids": [created["id"]]}, "budget": 1.0}
    r = await client.post("/campaigns/bulk", json=bulk, headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["succeeded"] == 1, r.text
    done = await until(client, inbox.admin, created["id"], "completed", _done)
    assert done["spent"] == pytest.approx(5 * 0.0625)
    assert sends_per_number(graph, inbox.account) == {n.lstrip("+"): 1 for n in numbers}


async def test_a_budget_below_the_first_price_pauses_before_any_send(inbox, client, runtime, graph):
    template_id = await template(inbox, client, runtime, "MARKETING")  # Brazil: 0.0625 each
    numbers = phones(3)
    created = await create(client, inbox.admin, template_id, numbers, budget=0.05)
    paused = await until(
        client, inbox.admin, created["id"], "paused by budget", lambda c: c["status"] == "PAUSED"
    )
    assert paused["waitingReason"] == "BUDGET_REACHED" and paused["spent"] == 0
    assert paused["counts"]["pending"] == 3
    assert sum(sends_per_number(graph, inbox.account).values()) == 0


async def test_utility_inside_the_window_is_free(inbox, client, runtime):
    number = phones(1)[0].lstrip("+")
    import time

    await inbox.customer_writes("hi", wa_id=number, timestamp=int(time.time()))
    template_id = await template(inbox, client, runtime, "UTILITY")
    created = await create(client, inbox.admin, template_id, [number, *phones(1)], budget=0.0068)
    assert created["estimatedCost"] == pytest.approx(0.0068)
    done = await until(client, inbox.admin, created["id"], "completed", _done)
    costs = {r["phone"]: r["cost"] for r in done["recipients"]}
    assert costs[number] == 0 and done["spent"] == pytest.approx(0.0068)


async def test_tier_limit_holds_the_rest_back(inbox, client, runtime, graph):
    await set_tier(runtime, inbox.account, "TIER_50")
    template_id = await template(inbox, client, runtime)
    created = await create(client, inbox.admin, template_id, phones(55))
    waiting = await until(
        client,
        inbox.admin,
        created["id"],
        "waits on the tier, its sends done",
        lambda c: c["waitingReason"] == "TIER_LIMIT" and c["counts"]["sent"] == 50,
    )
    assert waiting["status"] == "RUNNING"
    assert waiting["counts"]["pending"] == 5
    assert sum(sends_per_number(graph, inbox.account).values()) == 50


async def test_throttling_slows_the_campaign_without_failing_anyone(inbox, client, runtime, graph):
    template_id = await template(inbox, client, runtime)
    numbers = phones(12)
    graph.fail_next_sends(
        inbox.account.phone_number_id, (400, 130429, None), (400, 131056, None), (400, 80007, None)
    )
    created = await create(client, inbox.admin, template_id, numbers)
    done = await until(client, inbox.admin, created["id"], "completed", _done)
    assert done["counts"]["failed"] == 0 and done["counts"]["sent"] == 12
    assert sends_per_number(graph, inbox.account) == {n.lstrip("+"): 1 for n in numbers}
    assert len(graph.attempts_by(inbox.account.phone_number_id)) == 12 + 3


async def test_a_refused_send_fails_its_recipient_only(inbox, client, runtime, graph):
    template_id = await template(inbox, client, runtime)
    graph.fail_next_sends(inbox.account.phone_number_id, (400, 131026, None))
    created = await create(client, inbox.admin, template_id, phones(3))
    done = await until(client, inbox.admin, created["id"], "completed", _done)
    assert done["counts"]["failed"] == 1 and done["counts"]["sent"] == 2
    r = await client.get(f"/campaigns/{created['id']}?status=FAILED", headers=inbox.admin.headers)
    [failed] = r.json()["data"]["recipients"]
    assert failed["errorCode"] == "131026" and failed["errorMessage"]


async def test_scheduled_campaign_starts_at_its_time(inbox, client, runtime, graph):
    template_id = await template(inbox, client, runtime)
    at = utcnow() + timedelta(seconds=2)
    created = await create(client, inbox.admin, template_id, phones(2), scheduledAt=at.isoformat())
    assert created["status"] == "SCHEDULED" and created["startedAt"] is None
    assert sum(sends_per_number(graph, inbox.account).values()) == 0
    done = await until(client, inbox.admin, created["id"], "completed", _done)
    assert done["startedAt"] >= at.isoformat()[:19]


async def test_pause_stops_claiming_and_resume_sends_the_rest_once(
    inbox, client, runtime, graph, monkeypatch
):
    # batches of 20 (two ahead): the pause comes while most recipients are still to be claimed
    monkeypatch.setattr(runtime.settings, "whatsapp_send_rate_per_second", 20)
    template_id = await template(inbox, client, runtime)
    numbers = phones(60)
    created = await create(
        client, inbox.admin, template_id, numbers, scheduledAt=(utcnow() + timedelta(seconds=30)).isoformat()
    )
    pause = {"action": "pause", "selection": {"mode": "ids", "ids": [created["id"]]}}
    r = await client.post("/campaigns/bulk", json=pause, headers=inbox.admin.headers)
    assert r.json()["data"]["succeeded"] == 1
    resume = {"action": "resume", "selection": {"mode": "filter", "filter": {"status": "PAUSED"}}}
    r = await client.post("/campaigns/bulk", json=resume, headers=inbox.admin.headers)
    assert r.json()["data"]["succeeded"] == 1
    # resumed before its time: it waits for it again
    assert (await campaign(client, inbox.admin, created["id"]))["status"] == "SCHEDULED"
    cancel = {"action": "cancel", "selection": {"mode": "ids", "ids": [created["id"]]}}
    r = await client.post("/campaigns/bulk", json=cancel, headers=inbox.admin.headers)
    assert r.json()["data"]["succeeded"] == 1

    immediate = await create(client, inbox.admin, template_id, phones(100))
    await until(client, inbox.admin, immediate["id"], "some sent", lambda c: c["counts"]["sent"] > 0)
    pause["selection"]["ids"] = [immediate["id"]]
    r = await client.post("/campaigns/bulk", json=pause, headers=inbox.admin.headers)
    assert r.json()["data"]["succeeded"] == 1
    paused = await until(
        client,
        inbox.admin,
        immediate["id"],
        "in-flight sends drained",
        lambda c: (
            c["counts"]["sent"] + c["counts"]["failed"] + c["counts"]["pending"] == 100
            and all(r["status"] != "PENDING" or not r["messageId"] for r in c["recipients"])
        ),
    )
    sent_while_paused = sum(sends_per_number(graph, inbox.account).values())
    assert paused["status"] == "PAUSED" and paused["counts"]["pending"] > 0
    resume["selection"] = {"mode": "ids", "ids": [immediate["id"]]}
    r = await client.post("/campaigns/bulk", json=resume, headers=inbox.admin.headers)
    assert r.json()["data"]["succeeded"] == 1
    await until(client, inbox.admin, immediate["id"], "completed", _done)
    sends = sends_per_number(graph, inbox.account)
    assert sum(sends.values()) == 100 > sent_while_paused and set(sends.values()) == {1}


async def test_export_csv_columns_and_filters(inbox, client, runtime):
    template_id = await template(inbox, client, runtime)
    created = await create(client, inbox.admin, template_id, phones(3))
    await until(client, inbox.admin, created["id"], "completed", _done)
    r = await client.get(f"/campaigns/{created['id']}/export", headers=inbox.supervisor.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == [
        "phone",
        "name",
        "status",
        "sentAt",
        "deliveredAt",
        "readAt",
        "repliedAt",
        "errorCode",
        "errorMessage",
    ]
    assert len(rows) == 4 and all(
        row[0].startswith("+55") and row[2] == "SENT" and row[3] for row in rows[1:]
    )
    r = await client.get(f"/campaigns/{created['id']}/export?status=REPLIED", headers=inbox.admin.headers)
    assert r.text.count("\n") == 1
    r = await client.get(f"/campaigns/{created['id']}/export?status=NOPE", headers=inbox.admin.headers)
    assert r.status_code == 400


async def test_formula_cells_are_defused_in_the_export(inbox, client, runtime):
    template_id = await template(inbox, client, runtime)
    body = {
        "name": "x",
        "templateId": template_id,
        "variables": {"body": ["a", "b"]},
        "recipients": [{"phone": phones(1)[0], "name": '=HYPERLINK("http://evil")'}],
    }
    r = await client.post("/campaigns", json=body, headers=inbox.admin.headers)
    r = await client.get(f"/campaigns/{r.json()['data']['id']}/export", headers=inbox.admin.headers)
    assert list(csv.reader(io.StringIO(r.text)))[1][1].startswith("'=")


async def test_list_global_stats_and_bulk_delete_rules(inbox, client, runtime):
    template_id = await template(inbox, client, runtime)
    finished = await create(client, inbox.admin, template_id, phones(2))
    await until(client, inbox.admin, finished["id"], "completed", _done)
    later = await create(
        client, inbox.admin, template_id, phones(2), scheduledAt=(utcnow() + timedelta(hours=1)).isoformat()
    )
    r = await client.get("/campaigns?status=SCHEDULED", headers=inbox.supervisor.headers)
    assert [c["id"] for c in r.json()["data"]] == [later["id"]]
    r = await client.get("/campaigns", headers=inbox.supervisor.headers)
    assert [c["id"] for c in r.json()["data"]] == [later["id"], finished["id"]]
    r = await client.get("/campaigns/stats/global", headers=inbox.supervisor.headers)
    stats = r.json()["data"]
    assert stats["campaigns"] == 2 and stats["byStatus"] == {"COMPLETED": 1, "SCHEDULED": 1}
    assert stats["counts"]["total"] == 4 and stats["counts"]["sent"] == 2
    r = await client.post(
        "/campaigns/bulk",
        json={"action": "resume", "selection": {"mode": "ids", "ids": [finished["id"]]}},
        headers=inbox.admin.headers,
    )
    assert r.json()["data"]["failed"][0]["code"] == "CONFLICT"
    r = await client.post(
        "/campaigns/bulk",
        json={"action": "delete", "selection": {"mode": "ids", "ids": [finished["id"], later["id"]]}},
        headers=inbox.admin.headers,
    )
    assert r.json()["data"]["succeeded"] == 2
    r = await client.get(f"/campaigns/{finished['id']}", headers=inbox.admin.headers)
    assert r.status_code == 404
    r = await client.post(
        "/campaigns/bulk",
        json={"action": "explode", "selection": {"mode": "ids", "ids": ["x"]}},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 400


async def test_a_running_campaign_cannot_be_deleted(inbox, client, runtime):
    await set_tier(runtime, inbox.account, "TIER_50")
    template_id = await template(inbox, client, runtime)
    running = await create(client, inbox.admin, template_id, phones(60))
    await until(client, inbox.admin, running["id"], "tier wait", lambda c: c["waitingReason"] == "TIER_LIMIT")
    r = await client.post(
        "/campaigns/bulk",
        json={"action": "delete", "selection": {"mode": "ids", "ids": [running["id"]]}},
        headers=inbox.admin.headers,
    )
    assert r.json()["data"]["failed"] == [
        {
            "id": running["id"],
            "code": "CONFLICT",
            "message": "A RUNNING campaign cannot be deleted: pause or cancel it first",
        }
    ]
    r = await client.post(
        "/campaigns/bulk",
        json={"action": "cancel", "selection": {"mode": "ids", "ids": [running["id"]]}},
        headers=inbox.admin.headers,
    )
    assert r.json()["data"]["succeeded"] == 1
    assert (await campaign(client, inbox.admin, running["id"]))["status"] == "CANCELLED"


async def test_plan_limit_counts_campaigns_of_the_month(client, runtime, factory, graph):
    inbox = await make_inbox(client, runtime, factory, graph)
    from cxinbox.models.identity import Organization
    from tests.fixtures.factories import update_rows

    await update_rows(runtime, Organization, Organization.id == inbox.org.id, plan=Plan.FREE)
    template_id = await template(inbox, client, runtime)
    for _ in range(2):
        await create(client, inbox.admin, template_id, phones(1))
    body = {
        "name": "x",
        "templateId": template_id,
        "recipients": [{"phone": phones(1)[0]}],
        "variables": {"body": ["a", "b"]},
    }
    r = await client.post("/campaigns", json=body, headers=inbox.admin.headers)
    assert r.status_code == 402 and error_code(r) == "PLAN_LIMIT_REACHED"
    r = await client.get("/plan/usage", headers=inbox.admin.headers)
    assert "2" in r.text


async def test_roles_tokens_and_other_organizations(inbox, client, runtime, factory, graph):
    template_id = await template(inbox, client, runtime)
    created = await create(client, inbox.admin, template_id, phones(1))
    body = {
        "name": "x",
        "templateId": template_id,
        "recipients": [{"phone": phones(1)[0]}],
        "variables": {"body": ["a", "b"]},
    }
    cid = created["id"]
    reads = [
        "/campaigns",
        f"/campaigns/{cid}",
        f"/campaigns/{cid}/stats",
        f"/campaigns/{cid}/export",
        "/campaigns/stats/global",
    ]
    for path in reads:
        assert (await client.get(path)).status_code == 401, path
        assert (await client.get(path, headers=inbox.agent.headers)).status_code == 403, path
        assert (await client.get(path, headers=inbox.supervisor.headers)).status_code == 200, path
    assert (await client.post("/campaigns", json=body)).status_code == 401
    for member in (inbox.agent, inbox.supervisor):
        r = await client.post("/campaigns", json=body, headers=member.headers)
        assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
        r = await client.post(
            "/campaigns/bulk",
            json={"action": "pause", "selection": {"mode": "ids", "ids": [cid]}},
            headers=member.headers,
        )
        assert r.status_code == 403

    other = await make_inbox(client, runtime, factory, graph)
    for path in reads[1:4]:
        r = await client.get(path, headers=other.admin.headers)
        assert r.status_code == 404 and error_code(r) == "NOT_FOUND", path
    r = await client.post("/campaigns", json=body, headers=other.admin.headers)  # another org's template
    assert r.status_code == 404
    r = await client.post(
        "/campaigns/bulk",
        json={"action": "cancel", "selection": {"mode": "ids", "ids": [cid]}},
        headers=other.admin.headers,
    )
    assert r.json()["data"]["failed"][0]["code"] == "NOT_FOUND"
    assert (await campaign(client, inbox.admin, cid))["status"] != "CANCELLED"
    r = await client.get("/campaigns", headers=other.admin.headers)
    assert r.json()["data"] == []


async def test_restart_and_more_workers_send_each_recipient_exactly_once(
    inbox, client, runtime, settings, graph
):
    """Other processes join the dispatch (each with its own job queue on the same database and
    broker), one of them stops mid-run and another starts: every recipient gets one send."""
    await set_tier(runtime, inbox.account, "TIER_1K")
    template_id = await template(inbox, client, runtime)
    numbers = phones(400)  # more than one batch at the default 80/s
    async with started_runtime(settings, redis_url=REDIS_URL):
        created = await create(client, inbox.admin, template_id, numbers)
        await until(
            client, inbox.admin, created["id"], "dispatch under way", lambda c: c["counts"]["sent"] >= 10
        )
    assert (await campaign(client, inbox.admin, created["id"]))["counts"]["sent"] < 400
    async with started_runtime(settings, redis_url=REDIS_URL):
        done = await until(client, inbox.admin, created["id"], "completed", _done)
    assert done["counts"]["sent"] == 400 and done["counts"]["failed"] == 0
    assert sends_per_number(graph, inbox.account) == {n.lstrip("+"): 1 for n in numbers}


async def test_a_send_whose_answer_was_lost_is_reconciled_never_resent(inbox, client, runtime, graph):
    """Meta accepted two sends whose answers never came back whole (as when the worker dies during
    the call): neither is sent again. A status webhook carrying one's callback key makes it SENT;
    the other, still unknown after the window, ends UNKNOWN: counted, and the campaign completes."""
    await set_tier(runtime, inbox.account, "TIER_1K")
    template_id = await template(inbox, client, runtime)
    numbers = phones(5)
    graph.lose_next_answers(inbox.account.phone_number_id, 2)
    created = await create(client, inbox.admin, template_id, numbers)
    await until(
        client,
        inbox.admin,
        created["id"],
        "three sent, two of unknown outcome",
        lambda c: c["counts"]["sent"] == 3 and c["counts"]["pending"] == 2,
    )
    async with runtime.unit_of_work() as session:
        await sweep_outbox(runtime, session)
    r = await client.get(f"/campaigns/{created['id']}?status=PENDING", headers=inbox.admin.headers)
    waiting = [await load_outbox(runtime, row["messageId"]) for row in r.json()["data"]["recipients"]]
    assert [e.state for e in waiting] == [OutboxState.SENDING] * 2
    first, second = (callback_key(e.id) for e in waiting)

    body = status_webhook(
        inbox.account.phone_number_id, graph.state.wamid_of[first], "sent", callback_data=first
    )
    await deliver(client, runtime, body)
    await until(
        client, inbox.admin, created["id"], "the reported one sent", lambda c: c["counts"]["sent"] == 4
    )

    await update_rows(
        runtime, OutboxEntry, OutboxEntry.id == waiting[1].id, locked_until=utcnow() - timedelta(hours=1)
    )
    async with runtime.unit_of_work() as session:
        await sweep_outbox(runtime, session)
    done = await until(client, inbox.admin, created["id"], "completed", _done)
    assert (done["counts"]["sent"], done["counts"]["unknown"], done["counts"]["pending"]) == (4, 1, 0)
    r = await client.get(f"/campaigns/{created['id']}?status=UNKNOWN", headers=inbox.admin.headers)
    [unknown] = r.json()["data"]["recipients"]
    assert (unknown["status"], unknown["errorCode"]) == ("UNKNOWN", "OUTCOME_UNKNOWN")
    assert sends_per_number(graph, inbox.account) == {n.lstrip("+"): 1 for n in numbers}
    assert second in graph.state.wamid_of
