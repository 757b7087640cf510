"""Account alerts: raised by account-level webhooks and rejected tokens; ``/whatsapp-accounts/alerts``."""

from __future__ import annotations

import copy
import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from cxinbox.auth.principal import Principal
from cxinbox.models.event_log import EventRecord
from cxinbox.models.identity import Role
from cxinbox.models.inbox import MessageStatus
from cxinbox.models.whatsapp import AccountAlert, AccountStatus, AlertSeverity, WhatsAppAccount
from cxinbox.realtime.visibility import predicate_for
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.alerts.classify import AlertDraft
from cxinbox.whatsapp.alerts.service import raise_alert
from cxinbox.whatsapp.outbound.delivery import deliver_message
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.sending import (
    load_message,
    load_outbox,
    make_thread,
    queued_text,
    send_text,
    until_status,
)
from tests.fixtures.whatsapp import connect_number, deliver, sample, unique_number

ALERTS = "/whatsapp-accounts/alerts"


def for_waba(payload: dict[str, Any], waba_id: str) -> dict[str, Any]:
    """``payload`` about the WhatsApp Business Account ``waba_id`` (the samples' ids are shared)."""
    payload = copy.deepcopy(payload)
    for entry in payload["entry"]:
        entry["id"] = waba_id
        for change in entry["changes"]:
            if "waba_info" in change["value"]:
                change["value"]["waba_info"]["waba_id"] = waba_id
    return payload


def change(waba_id: str, field: str, value: dict[str, Any], at: float | None = None) -> dict[str, Any]:
    """A webhook with one change, sent by Meta at ``at`` (epoch seconds; default now)."""
    entry = {"id": waba_id, "time": int(at or time.time()), "changes": [{"field": field, "value": value}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


async def add_number(runtime: Runtime, graph, organization_id: str, **fields: Any) -> WhatsAppAccount:
    """A connected number; ``fields`` (e.g. ``waba_id``, ``display_phone_number``) set on it."""
    account = await connect_number(runtime, graph, organization_id)
    if fields:
        async with runtime.unit_of_work() as session:
            row = await session.get_one(WhatsAppAccount, account.id)
            for name, value in fields.items():
                setattr(row, name, value)
        for name, value in fields.items():
            setattr(account, name, value)
    return account


async def account_row(runtime: Runtime, account_id: str) -> WhatsAppAccount:
    async with runtime.sessionmaker() as session:
        return await session.get_one(WhatsAppAccount, account_id)


async def alerts_of(client, headers, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(ALERTS, params={"limit": 100, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def unread(client, headers) -> int:
    r = await client.get(f"{ALERTS}/unread-count", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]["count"]


async def seed(runtime: Runtime, account: WhatsAppAccount, *severities: AlertSeverity) -> list[str]:
    """Alerts raised directly through the service (one per severity given), oldest first."""
    ids = []
    async with runtime.unit_of_work() as session:
        for n, severity in enumerate(severities):
            draft = AlertDraft(f"TEST_{severity.value}", severity, f"Alert {n}", "Something happened")
            alert = await raise_alert(
                session, account, draft, source_key=f"test:{uuid.uuid4().hex}", details={"n": n}
            )
            assert alert is not None
            ids.append(alert.id)
    return ids


# --- webhooks -> alerts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "severity", "title"),
    [
        ("account_violation", "WARNING", "violated a WhatsApp policy"),
        ("account_restriction", "CRITICAL", "is restricted"),
        ("account_disabled", "INFO", "was reinstated"),
        ("account_deleted", "CRITICAL", "was deleted"),
        ("account_offboarded", "CRITICAL", "was offboarded"),
        ("partner_removed", "CRITICAL", "no longer shared"),
        ("partner_app_uninstalled", "CRITICAL", "removed this platform's access"),
        ("primary_business_location_set", "INFO", "primary business location"),
        ("pricing_tiering_update", "INFO", "pricing tier"),
    ],
)
async def test_account_update_events_raise_alerts(client, runtime, factory, graph, case, severity, title):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    payload = for_waba(sample("account_update.json", case), account.waba_id)
    event = await deliver(client, runtime, body_of(payload))
    assert event.organization_id == org.id
    [alert] = await alerts_of(client, org.admin.headers)
    event_name = payload["entry"][0]["changes"][0]["value"]["event"]
    assert (alert["type"], alert["severity"], alert["whatsappAccountId"]) == (
        event_name,
        severity,
        account.id,
    )
    assert title in alert["title"] and alert["message"]
    assert alert["acknowledged"] is False and alert["acknowledgedAt"] is None
    assert alert["details"]["field"] == "account_update"
    assert alert["details"]["value"] == payload["entry"][0]["changes"][0]["value"]


async def test_alert_messages_say_what_meta_reported(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    for case in ("account_violation", "account_restriction"):
        await deliver(
            client, runtime, body_of(for_waba(sample("account_update.json", case), account.waba_id))
        )
    restriction, violation = await alerts_of(client, org.admin.headers)
    assert "ADULT" in violation["message"]
    assert "RESTRICTED_BIZ_INITIATED_MESSAGING until 2022-01-04T21:08:18Z" in restriction["message"]
    assert restriction["occurredAt"] == "2022-01-04T21:08:18Z"  # Meta's entry.time


@pytest.mark.parametrize(
    ("state", "severity"),
    [("DISABLE", "CRITICAL"), ("SCHEDULE_FOR_DISABLE", "CRITICAL"), ("REINSTATE", "INFO")],
)
async def test_disabled_update_severity_follows_the_ban_state(
    client, runtime, factory, graph, state, severity
):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    payload = for_waba(sample("account_update.json", "account_disabled"), account.waba_id)
    payload["entry"][0]["changes"][0]["value"]["ban_info"]["waba_ban_state"] = state
    await deliver(client, runtime, body_of(payload))
    [alert] = await alerts_of(client, org.admin.headers)
    assert (alert["type"], alert["severity"]) == ("DISABLED_UPDATE", severity)


QUALITY_CASES = [
    ({"event": "FLAGGED", "current_limit": "TIER_10K"}, "WARNING", "RED", "TIER_10K"),
    ({"event": "UNFLAGGED", "current_limit": "TIER_10K"}, "INFO", "YELLOW", "TIER_10K"),
    (
        {"event": "DOWNGRADE", "old_limit": "TIER_10K", "current_limit": "TIER_1K"},
        "WARNING",
        "GREEN",
        "TIER_1K",
    ),
    ({"event": "UPGRADE", "old_limit": "TIER_1K", "current_limit": "TIER_10K"}, "INFO", "GREEN", "TIER_10K"),
    ({"event": "THROUGHPUT_UPGRADE", "current_limit": "TIER_UNLIMITED"}, "INFO", "GREEN", "TIER_UNLIMITED"),
]


@pytest.mark.parametrize(("value", "severity", "quality", "tier"), QUALITY_CASES)
async def test_quality_updates_raise_alerts_and_update_the_number(
    client, runtime, factory, graph, value, severity, quality, tier
):
    org = await factory.org()
    account = await add_number(
        runtime, graph, org.id, display_phone_number="+1 555-078-3881", quality_rating="GREEN"
    )
    payload = change(
        account.waba_id, "phone_number_quality_update", {"display_phone_number": "15550783881", **value}
    )
    await deliver(client, runtime, body_of(payload))
    [alert] = await alerts_of(client, org.admin.headers)
    assert (alert["type"], alert["severity"]) == ("PHONE_NUMBER_QUALITY_UPDATE", severity)
    assert tier in alert["message"]
    row = await account_row(runtime, account.id)
    assert (row.quality_rating, row.messaging_limit_tier) == (quality, tier)
    r = await client.get("/whatsapp-accounts", headers=org.admin.headers)
    assert r.json()["data"][0]["qualityRating"] == quality


@pytest.mark.parametrize(
    ("decision", "severity", "name_status", "verified_name"),
    [("APPROVED", "INFO", "APPROVED", "Acme Travel"), ("REJECTED", "WARNING", "DECLINED", "Old Name")],
)
async def test_name_updates_raise_alerts_and_update_the_number(
    client, runtime, factory, graph, decision, severity, name_status, verified_name
):
    org = await factory.org()
    account = await add_number(
        runtime, graph, org.id, display_phone_number="15550783881", verified_name="Old Name"
    )
    value = {
        "display_phone_number": "15550783881",
        "decision": decision,
        "requested_verified_name": "Acme Travel",
        "rejection_reason": "NAME_FORMATTING" if decision == "REJECTED" else None,
    }
    await deliver(client, runtime, body_of(change(account.waba_id, "phone_number_name_update", value)))
    [alert] = await alerts_of(client, org.admin.headers)
    assert (alert["type"], alert["severity"]) == ("PHONE_NUMBER_NAME_UPDATE", severity)
    row = await account_row(runtime, account.id)
    assert (row.name_status, row.verified_name) == (name_status, verified_name)


# --- out-of-order reports -------------------------------------------------------------------------------

HOUR = 3600


def quality_update(account: WhatsAppAccount, value: dict[str, Any], at: float, where: str) -> bytes:
    """A quality update of ``account``'s number reported at ``at``, the time in the entry or the change."""
    value = {"display_phone_number": account.display_phone_number, **value}
    if where == "change":
        value["timestamp"] = str(int(at))
        return body_of(change(account.waba_id, "phone_number_quality_update", value, at=time.time()))
    return body_of(change(account.waba_id, "phone_number_quality_update", value, at=at))


@pytest.mark.parametrize("where", ["entry", "change"])
async def test_an_older_quality_update_arriving_later_changes_only_what_no_newer_one_set(
    client, runtime, factory, graph, where
):
    org = await factory.org()
    account = await add_number(runtime, graph, org.id, display_phone_number="15550783881")
    now = time.time()
    newer = {"event": "UPGRADE", "old_limit": "TIER_1K", "current_limit": "TIER_10K"}
    older = {"event": "FLAGGED", "current_limit": "TIER_1K"}
    await deliver(client, runtime, quality_update(account, newer, now - HOUR, where))
    await deliver(client, runtime, quality_update(account, older, now - 2 * HOUR, where))
    row = await account_row(runtime, account.id)
    # the limit keeps the newer report's value; no newer report said anything about the quality
    assert (row.messaging_limit_tier, row.quality_rating) == ("TIER_10K", "RED")
    assert len(await alerts_of(client, org.admin.headers)) == 2  # the late report is still an alert

    await deliver(client, runtime, quality_update(account, {"event": "UNFLAGGED"}, now, where))
    assert (await account_row(runtime, account.id)).quality_rating == "YELLOW"


async def test_an_older_name_decision_arriving_later_keeps_the_newer_status(client, runtime, factory, graph):
    org = await factory.org()
    account = await add_number(
        runtime, graph, org.id, display_phone_number="15550783881", verified_name="Old Name"
    )
    now = time.time()
    decisions = [("REJECTED", "Acme Travel Deals", now), ("APPROVED", "Acme Travel", now - HOUR)]
    for decision, name, at in decisions:  # the rejection of a later request arrives first
        value = {"display_phone_number": "15550783881", "decision": decision, "requested_verified_name": name}
        await deliver(
            client, runtime, body_of(change(account.waba_id, "phone_number_name_update", value, at=at))
        )
    row = await account_row(runtime, account.id)
    assert (row.name_status, row.verified_name) == ("DECLINED", "Acme Travel")
    assert len(await alerts_of(client, org.admin.headers, type="PHONE_NUMBER_NAME_UPDATE")) == 2


async def test_a_webhook_older_than_the_last_health_check_leaves_its_values(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)  # the display number Meta answers
    r = await client.get(f"/whatsapp-accounts/{account.id}/health", headers=org.admin.headers)
    assert r.json()["data"]["qualityRating"] == "GREEN"
    flagged = {"event": "FLAGGED", "current_limit": "TIER_250"}
    await deliver(client, runtime, quality_update(account, flagged, time.time() - 60, "entry"))
    row = await account_row(runtime, account.id)
    assert (row.quality_rating, row.messaging_limit_tier) == ("GREEN", "TIER_1K")
    await deliver(client, runtime, quality_update(account, flagged, time.time() + 60, "entry"))
    assert (await account_row(runtime, account.id)).quality_rating == "RED"


async def test_meta_account_alerts_keep_metas_severity(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    value = {
        "entity_type": "PHONE_NUMBER",
        "entity_id": account.phone_number_id,
        "alert_info": {
            "alert_severity": "CRITICAL",
            "alert_status": "ACTIVE",
            "alert_type": "OBA_REJECTED",
            "alert_description": "We do not grant official business accounts to individuals.",
        },
    }
    await deliver(client, runtime, body_of(change(account.waba_id, "account_alerts", value)))
    [alert] = await alerts_of(client, org.admin.headers)
    assert (alert["type"], alert["severity"]) == ("OBA_REJECTED", "CRITICAL")
    assert alert["message"] == value["alert_info"]["alert_description"]


async def test_business_capability_and_review_updates(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    capability = {"max_daily_conversations_per_business": "TIER_10K", "max_phone_numbers_per_waba": 25}
    await deliver(client, runtime, body_of(change(account.waba_id, "business_capability_update", capability)))
    await deliver(
        client, runtime, body_of(change(account.waba_id, "account_review_update", {"decision": "REJECTED"}))
    )
    review, capabilities = await alerts_of(client, org.admin.headers)
    assert (capabilities["type"], capabilities["severity"]) == ("BUSINESS_CAPABILITY_UPDATE", "INFO")
    assert "TIER_10K" in capabilities["message"] and "25" in capabilities["message"]
    assert (review["type"], review["severity"]) == ("ACCOUNT_REVIEW_UPDATE", "CRITICAL")


async def test_a_replayed_webhook_raises_no_second_alert(client, runtime, factory, graph):
    org = await factory.org()
    account = await add_number(runtime, graph, org.id, display_phone_number="15550783881")
    bodies = [
        body_of(for_waba(sample("account_update.json", "account_violation"), account.waba_id)),
        body_of(
            change(
                account.waba_id,
                "phone_number_quality_update",
                {"display_phone_number": "15550783881", "event": "FLAGGED", "current_limit": "TIER_1K"},
            )
        ),
    ]
    for body in bodies + bodies:  # Meta retries and replays deliver the same body again
        await deliver(client, runtime, body)
    assert len(await alerts_of(client, org.admin.headers)) == 2
    assert await unread(client, org.admin.headers) == 2


async def test_a_change_about_the_account_reaches_every_organization_with_a_number_there(
    client, runtime, factory, graph
):
    first, second, elsewhere = await factory.org(), await factory.org(), await factory.org()
    waba = unique_number()
    first_numbers = [await add_number(runtime, graph, first.id, waba_id=waba) for _ in range(2)]
    second_number = await add_number(runtime, graph, second.id, waba_id=waba)
    await connect_number(runtime, graph, elsewhere.id)
    await deliver(client, runtime, body_of(for_waba(sample("account_update.json", "account_deleted"), waba)))
    [alert] = await alerts_of(client, first.admin.headers)  # one per organization, on its oldest number
    assert alert["whatsappAccountId"] == first_numbers[0].id
    [alert] = await alerts_of(client, second.admin.headers)
    assert alert["whatsappAccountId"] == second_number.id
    assert await alerts_of(client, elsewhere.admin.headers) == []


async def test_partner_events_are_routed_by_the_customers_waba(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    payload = for_waba(sample("account_update.json", "partner_app_uninstalled"), account.waba_id)
    payload["entry"][0]["id"] = unique_number()  # the partner's business, not the customer's WABA
    await deliver(client, runtime, body_of(payload))
    [alert] = await alerts_of(client, org.admin.headers)
    assert (alert["type"], alert["whatsappAccountId"]) == ("PARTNER_APP_UNINSTALLED", account.id)


async def test_a_change_about_one_number_reaches_only_that_number(client, runtime, factory, graph):
    org = await factory.org()
    waba = unique_number()
    named = await add_number(runtime, graph, org.id, waba_id=waba, display_phone_number="+44 20 7946 0018")
    other = await add_number(runtime, graph, org.id, waba_id=waba, display_phone_number="+44 20 7946 0999")
    value = {"display_phone_number": "442079460018", "event": "DOWNGRADE", "current_limit": "TIER_250"}
    await deliver(client, runtime, body_of(change(waba, "phone_number_quality_update", value)))
    [alert] = await alerts_of(client, org.admin.headers)
    assert alert["whatsappAccountId"] == named.id
    assert (await account_row(runtime, named.id)).messaging_limit_tier == "TIER_250"
    assert (await account_row(runtime, other.id)).messaging_limit_tier is None
    filtered = await alerts_of(client, org.admin.headers, accountId=other.id)
    assert filtered == []


async def test_unknown_accounts_and_template_updates_stay_unrouted(client, runtime, factory, graph):
    unknown = for_waba(sample("account_update.json", "account_violation"), unique_number())
    event = await deliver(client, runtime, body_of(unknown))
    assert (event.organization_id, event.error) == (None, None)
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    for file, case in [
        ("template_status_update.json", "rejected"),
        ("template_quality_update.json", "yellow"),
        ("template_category_update.json", "marketing"),
    ]:
        event = await deliver(client, runtime, body_of(for_waba(sample(file, case), account.waba_id)))
        assert event.processed_at is not None and event.error is None
    assert await alerts_of(client, org.admin.headers) == []


async def test_an_account_webhook_signed_with_the_numbers_own_app_secret(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id, app_secret="own-app-secret")
    body = body_of(for_waba(sample("account_update.json", "account_violation"), account.waba_id))
    await deliver(client, runtime, body, secret="own-app-secret")
    assert len(await alerts_of(client, org.admin.headers)) == 1


async def test_a_new_alert_is_published_on_the_stream(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    await deliver(
        client,
        runtime,
        body_of(for_waba(sample("account_update.json", "account_violation"), account.waba_id)),
    )
    [alert] = await alerts_of(client, org.admin.headers)
    async with runtime.sessionmaker() as session:
        records = list(
            await session.scalars(
                select(EventRecord).where(
                    EventRecord.organization_id == org.id,
                    EventRecord.type == "whatsapp_account.alert.created",
                )
            )
        )
    assert [r.data for r in records] == [alert]


# --- bans and deletions stop sending --------------------------------------------------------------------


def ban_update(waba_id: str, state: str, at: float) -> bytes:
    """A ``DISABLED_UPDATE`` of ``waba_id`` to the ban state ``state``, reported at ``at``."""
    payload = for_waba(sample("account_update.json", "account_disabled"), waba_id)
    payload["entry"][0]["time"] = int(at)
    payload["entry"][0]["changes"][0]["value"]["ban_info"]["waba_ban_state"] = state
    return body_of(payload)


async def statuses(runtime: Runtime, *accounts: WhatsAppAccount) -> list[AccountStatus]:
    return [(await account_row(runtime, a.id)).status for a in accounts]


async def test_a_ban_stops_every_number_of_the_account_until_meta_reinstates_it(
    client, runtime, factory, graph
):
    org = await factory.org()
    thread = await make_thread(runtime, graph, org)
    waba = thread.account.waba_id
    second = await add_number(runtime, graph, org.id, waba_id=waba)
    now = time.time()
    await deliver(client, runtime, ban_update(waba, "DISABLE", now - HOUR))
    assert await statuses(runtime, thread.account, second) == [AccountStatus.DISABLED] * 2
    error = error_of(await send_text(client, thread), 409, "ACCOUNT_DISABLED")
    assert "reinstates" in error["message"]
    assert graph.attempts_by(thread.number) == []
    r = await client.get("/whatsapp-accounts", headers=org.admin.headers)
    assert [a["status"] for a in r.json()["data"]] == ["DISABLED", "DISABLED"]
    r = await client.patch(
        f"/whatsapp-accounts/{thread.account.id}",
        json={"accessToken": thread.account.token},
        headers=org.admin.headers,
    )
    assert r.json()["data"]["status"] == "DISABLED"  # a new token does not lift a ban

    await deliver(client, runtime, ban_update(waba, "REINSTATE", now))
    assert await statuses(runtime, thread.account, second) == [AccountStatus.CONNECTED] * 2
    r = await send_text(client, thread)
    assert r.status_code == 201, r.text
    await until_status(runtime, r.json()["data"]["id"], MessageStatus.SENT)


async def test_a_ban_older_than_the_reinstatement_arriving_later_changes_nothing(
    client, runtime, factory, graph
):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    now = time.time()
    await deliver(client, runtime, ban_update(account.waba_id, "REINSTATE", now))
    await deliver(client, runtime, ban_update(account.waba_id, "DISABLE", now - HOUR))
    assert await statuses(runtime, account) == [AccountStatus.CONNECTED]
    assert len(await alerts_of(client, org.admin.headers, type="DISABLED_UPDATE")) == 2


async def test_a_message_queued_before_the_ban_fails_without_reaching_meta(client, runtime, factory, graph):
    org = await factory.org()
    thread = await make_thread(runtime, graph, org)
    await deliver(client, runtime, ban_update(thread.account.waba_id, "DISABLE", time.time()))
    message, entry = await queued_text(runtime, thread, "queued before the ban")  # not sent yet
    async with runtime.unit_of_work() as session:
        await deliver_message(runtime, session, outbox_id=entry.id)
    failed = await load_message(runtime, message.id)
    assert failed.status == MessageStatus.FAILED and "disabled" in failed.error["message"]
    assert (await load_outbox(runtime, message.id)).permanent is True
    assert graph.attempts_by(thread.number) == []


async def test_a_deleted_account_stops_sending_until_its_number_is_connected_again(
    client, runtime, factory, graph
):
    org = await factory.org()
    thread = await make_thread(runtime, graph, org)
    account, waba = thread.account, thread.account.waba_id
    deleted = body_of(for_waba(sample("account_update.json", "account_deleted"), waba))
    await deliver(client, runtime, deleted)
    assert await statuses(runtime, account) == [AccountStatus.DELETED]
    error_of(await send_text(client, thread), 409, "ACCOUNT_DELETED")
    await deliver(client, runtime, ban_update(waba, "REINSTATE", time.time()))
    assert await statuses(runtime, account) == [AccountStatus.DELETED]  # only a new connection helps

    r = await client.post(
        "/whatsapp-accounts/connect-manual",
        json={"wabaId": waba, "phoneNumberId": account.phone_number_id, "accessToken": account.token},
        headers=org.admin.headers,
    )
    assert (r.status_code, r.json()["data"]["status"]) == (200, "CONNECTED")
    await deliver(client, runtime, deleted)  # Meta delivers the old deletion again
    assert await statuses(runtime, account) == [AccountStatus.CONNECTED]
    r = await send_text(client, thread)
    assert r.status_code == 201, r.text


async def test_a_rejected_token_leaves_a_banned_account_banned(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    await deliver(client, runtime, ban_update(account.waba_id, "DISABLE", time.time()))
    graph.state.tokens.discard(account.token)
    r = await client.get(f"/whatsapp-accounts/{account.id}/health", headers=org.admin.headers)
    assert (r.json()["data"]["status"], r.json()["data"]["healthy"]) == ("DISABLED", False)
    assert len(await alerts_of(client, org.admin.headers, type="TOKEN_INVALID")) == 1


# --- rejected tokens -----------------------------------------------------------------------------------


async def test_a_token_meta_rejects_raises_one_critical_alert_per_token(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    graph.state.tokens.discard(account.token)  # the fake Graph answers 190 from now on
    for _ in range(2):
        r = await client.get(f"/whatsapp-accounts/{account.id}/health", headers=org.admin.headers)
        assert r.json()["data"]["status"] == "TOKEN_INVALID"
    [alert] = await alerts_of(client, org.admin.headers)
    assert (alert["type"], alert["severity"]) == ("TOKEN_INVALID", "CRITICAL")
    assert alert["details"]["error"]["code"] == 190
    assert (await account_row(runtime, account.id)).status == AccountStatus.TOKEN_INVALID
    # a new token that Meta rejects again is a new problem
    r = await client.patch(
        f"/whatsapp-accounts/{account.id}",
        json={"accessToken": "another-bad-token"},
        headers=org.admin.headers,
    )
    assert r.status_code == 200
    await client.get(f"/whatsapp-accounts/{account.id}/health", headers=org.admin.headers)
    assert len(await alerts_of(client, org.admin.headers, type="TOKEN_INVALID")) == 2


async def test_a_healthy_account_raises_nothing(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    r = await client.get(f"/whatsapp-accounts/{account.id}/health", headers=org.admin.headers)
    assert r.json()["data"]["healthy"] is True
    assert await alerts_of(client, org.admin.headers) == []


# --- the endpoints -------------------------------------------------------------------------------------


async def test_filters(client, runtime, factory, graph):
    org = await factory.org()
    first, second = await connect_number(runtime, graph, org.id), await connect_number(runtime, graph, org.id)
    info, warning = await seed(runtime, first, AlertSeverity.INFO, AlertSeverity.WARNING)
    [critical] = await seed(runtime, second, AlertSeverity.CRITICAL)
    headers = org.admin.headers
    await client.post(f"{ALERTS}/{info}/acknowledge", headers=headers)

    async def ids(**params: Any) -> list[str]:
        return [a["id"] for a in await alerts_of(client, headers, **params)]

    assert await ids() == [critical, warning, info]  # newest first
    assert await ids(acknowledged="true") == [info]
    assert await ids(acknowledged="false") == [critical, warning]
    assert await ids(severity="WARNING") == [warning]
    assert await ids(type="TEST_CRITICAL") == [critical]
    assert await ids(accountId=first.id) == [warning, info]
    assert await ids(accountId=first.id, acknowledged="false") == [warning]


async def test_cursor_pagination(client, runtime, factory, graph):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    seeded = await seed(runtime, account, *[AlertSeverity.INFO] * 5)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = await client.get(ALERTS, params=params, headers=org.admin.headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["data"]) <= 2
        seen += [a["id"] for a in page["data"]]
        cursor = page["meta"]["nextCursor"]
        assert page["meta"]["hasMore"] is (cursor is not None)
        if cursor is None:
            break
    assert seen == list(reversed(seeded))


async def test_unread_count_and_acknowledging(client, runtime, factory, graph):
    org = await factory.org()
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    account = await connect_number(runtime, graph, org.id)
    first, *_ = await seed(
        runtime, account, AlertSeverity.CRITICAL, AlertSeverity.WARNING, AlertSeverity.INFO
    )
    r = await client.get(f"{ALERTS}/unread-count", headers=org.admin.headers)
    assert r.json()["data"] == {"count": 3, "bySeverity": {"INFO": 1, "WARNING": 1, "CRITICAL": 1}}

    r = await client.post(f"{ALERTS}/{first}/acknowledge", headers=supervisor.headers)
    assert r.status_code == 200, r.text
    acknowledged = r.json()["data"]
    assert acknowledged["acknowledged"] is True
    assert acknowledged["acknowledgedBy"] == {"id": supervisor.id, "name": supervisor.user.name}
    assert await unread(client, org.admin.headers) == 2
    # idempotent: acknowledging again changes nothing, not even who did it
    r = await client.post(f"{ALERTS}/{first}/acknowledge", headers=org.admin.headers)
    assert r.json()["data"] == acknowledged
    assert await unread(client, org.admin.headers) == 2

    r = await client.post(f"{ALERTS}/acknowledge-all", headers=org.admin.headers)
    assert r.json()["data"] == {"acknowledged": 2}
    r = await client.get(f"{ALERTS}/unread-count", headers=org.admin.headers)
    assert r.json()["data"] == {"count": 0, "bySeverity": {"INFO": 0, "WARNING": 0, "CRITICAL": 0}}
    r = await client.post(f"{ALERTS}/acknowledge-all", headers=org.admin.headers)
    assert r.json()["data"] == {"acknowledged": 0}
    assert all(a["acknowledgedBy"]["id"] for a in await alerts_of(client, org.admin.headers))


async def test_acknowledge_all_touches_only_the_callers_organization(client, runtime, factory, graph):
    org, other = await factory.org(), await factory.org()
    await seed(runtime, await connect_number(runtime, graph, org.id), AlertSeverity.INFO)
    await seed(
        runtime, await connect_number(runtime, graph, other.id), AlertSeverity.INFO, AlertSeverity.INFO
    )
    r = await client.post(f"{ALERTS}/acknowledge-all", headers=org.admin.headers)
    assert r.json()["data"] == {"acknowledged": 1}
    assert await unread(client, other.admin.headers) == 2
    async with runtime.sessionmaker() as session:
        types = await session.scalars(
            select(EventRecord.type).where(EventRecord.organization_id == org.id).order_by(EventRecord.seq)
        )
        assert list(types)[-1] == "whatsapp_account.alerts.acknowledged"


@pytest.mark.parametrize(
    "params",
    [
        {"acknowledged": "yes"},
        {"severity": "LOUD"},
        {"limit": 0},
        {"limit": 101},
        {"cursor": "not-a-cursor"},
        {"cursor": "WzEsMl0"},  # a well-formed cursor of the wrong values
    ],
)
async def test_list_validation(client, factory, params):
    org = await factory.org()
    r = await client.get(ALERTS, params=params, headers=org.admin.headers)
    assert bad_fields(r) == {next(iter(params))}


ENDPOINTS = [
    ("GET", ALERTS),
    ("GET", f"{ALERTS}/unread-count"),
    ("POST", f"{ALERTS}/{{id}}/acknowledge"),
    ("POST", f"{ALERTS}/acknowledge-all"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_no_token_is_401(client, method, path):
    error_of(await client.request(method, path.format(id="x")), 401, "UNAUTHORIZED")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_an_agent_is_403_and_a_supervisor_may(client, runtime, factory, graph, method, path):
    org = await factory.org()
    [alert_id] = await seed(runtime, await connect_number(runtime, graph, org.id), AlertSeverity.INFO)
    agent = await factory.member(org.id, Role.AGENT)
    error_of(await client.request(method, path.format(id=alert_id), headers=agent.headers), 403, "FORBIDDEN")
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    r = await client.request(method, path.format(id=alert_id), headers=supervisor.headers)
    assert r.status_code == 200, r.text


async def test_another_organizations_alert_is_404(client, runtime, factory, graph):
    owner, intruder = await factory.org(), await factory.org()
    [alert_id] = await seed(runtime, await connect_number(runtime, graph, owner.id), AlertSeverity.INFO)
    r = await client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=intruder.admin.headers)
    error_of(r, 404, "NOT_FOUND")
    error_of(
        await client.post(f"{ALERTS}/missing/acknowledge", headers=owner.admin.headers), 404, "NOT_FOUND"
    )
    assert await alerts_of(client, intruder.admin.headers) == []
    assert await unread(client, owner.admin.headers) == 1
    async with runtime.sessionmaker() as session:
        alert = await session.get_one(AccountAlert, alert_id)
        assert alert.acknowledged_at is None


async def test_agents_do_not_see_alert_events_on_the_stream(runtime, factory):
    org = await factory.org()
    event = {"type": "whatsapp_account.alert.created", "data": {}, "audience": {}}
    async with runtime.sessionmaker() as session:
        for role, visible in [(Role.AGENT, False), (Role.SUPERVISOR, True), (Role.ADMIN, True)]:
            predicate = await predicate_for(
                session, Principal(role=role, organization_id=org.id, user_id="u")
            )
            assert predicate(event) is visible
