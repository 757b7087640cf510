"""A webhook signature covers the numbers of its signer only: one tenant's own app secret signing a
body that also names another tenant's number or business account changes nothing of theirs."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from cxinbox.models.inbox import MessageStatus
from cxinbox.models.whatsapp import (
    AccountAlert,
    AccountStatus,
    TemplateEvent,
    WebhookEvent,
    WhatsAppAccount,
)
from cxinbox.runtime import Runtime
from tests.conftest import META_APP_SECRET
from tests.fixtures.whatsapp import (
    connect_number,
    deliver,
    for_number,
    messages_of,
    new_wamid,
    outbound_message,
    post_webhook,
    processed,
    reload,
    sample,
    status_body,
    status_events,
)

SECRET_A = "org-a-own-app-secret"


def about(account: WhatsAppAccount, payload: dict[str, Any] | bytes) -> dict[str, Any]:
    """``payload`` as Meta sends it about ``account``: its number, its business account."""
    raw = payload if isinstance(payload, bytes) else for_number(payload, account.phone_number_id)
    body = json.loads(raw)
    for entry in body["entry"]:
        entry["id"] = account.waba_id
    return body


def one_body(*payloads: dict[str, Any]) -> bytes:
    """The entries of ``payloads`` in one webhook body."""
    entries = [entry for payload in payloads for entry in payload["entry"]]
    return json.dumps({"object": "whatsapp_business_account", "entry": entries}).encode()


def account_change(waba_id: str, case: str, **value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(sample("account_update.json", case))
    payload["entry"][0]["id"] = waba_id
    payload["entry"][0]["time"] = int(time.time())
    payload["entry"][0]["changes"][0]["value"].update(value)
    return payload


async def count(runtime: Runtime, model: Any, *where: Any) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def account_status(runtime: Runtime, account: WhatsAppAccount) -> AccountStatus:
    async with runtime.sessionmaker() as session:
        return (await session.get_one(WhatsAppAccount, account.id)).status


@pytest.fixture
async def tenant_a(runtime, factory, graph):
    """The attacker: an organization whose number has its own app secret."""
    org = await factory.org()
    return org, await connect_number(runtime, graph, org.id, app_secret=SECRET_A)


@pytest.fixture
async def tenant_b(runtime, factory, graph):
    """The victim, on the platform's app."""
    org = await factory.org()
    return org, await connect_number(runtime, graph, org.id)


@pytest.mark.parametrize("victim_secret", [None, "org-b-own-app-secret"])
async def test_a_tenants_secret_does_not_sign_another_tenants_messages(
    client, runtime, factory, graph, tenant_a, victim_secret
):
    org_a, a = tenant_a
    org_b = await factory.org()
    b = await connect_number(runtime, graph, org_b.id, app_secret=victim_secret)
    body = one_body(about(a, sample("message.json", "text")), about(b, sample("message.json", "text")))
    event = await deliver(client, runtime, body, secret=SECRET_A)
    assert len(await messages_of(runtime, org_a.id)) == 1  # its own part is processed
    assert await messages_of(runtime, org_b.id) == []
    assert event.organization_id == org_a.id
    assert event.signature_scope == [a.phone_number_id]
    assert event.error == "ignored: 1 change(s) about numbers the signature does not cover"


async def test_a_body_only_about_another_tenant_signed_with_a_tenants_secret_is_refused(
    client, runtime, tenant_a, tenant_b
):
    _, b = tenant_b
    body = one_body(about(b, sample("message.json", "text")))
    r = await post_webhook(client, body, secret=SECRET_A)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "INVALID_SIGNATURE")
    assert await count(runtime, WebhookEvent, WebhookEvent.body == body) == 0


async def test_statuses_of_another_tenants_messages_are_not_applied(client, runtime, tenant_a, tenant_b):
    _, a = tenant_a
    org_b, b = tenant_b
    wamid = new_wamid()
    message = await outbound_message(runtime, client, tenant_b, wamid=wamid)
    forged = about(b, status_body(b, "read", wamid))
    await deliver(
        client, runtime, one_body(about(a, sample("message.json", "text")), forged), secret=SECRET_A
    )
    assert (await reload(runtime, message.id)).status == MessageStatus.SENT
    assert await status_events(runtime, wamid) == []
    await deliver(client, runtime, one_body(forged))  # the platform's app does sign for B
    assert (await reload(runtime, message.id)).status == MessageStatus.READ


async def test_reactions_to_another_tenants_messages_are_not_applied(client, runtime, tenant_a, tenant_b):
    _, a = tenant_a
    org_b, b = tenant_b
    await deliver(client, runtime, one_body(about(b, sample("message.json", "text"))))
    [target] = await messages_of(runtime, org_b.id)
    reaction = about(b, sample("message.json", "reaction"))
    reaction["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"]["message_id"] = (
        target.wa_message_id
    )
    await deliver(
        client, runtime, one_body(about(a, sample("message.json", "text")), reaction), secret=SECRET_A
    )
    assert (await reload(runtime, target.id)).reaction is None
    await deliver(client, runtime, one_body(reaction))  # signed by the platform's app: applied
    assert (await reload(runtime, target.id)).reaction is not None


async def test_account_updates_of_another_tenants_business_account_are_not_applied(
    client, runtime, tenant_a, tenant_b
):
    org_a, a = tenant_a
    org_b, b = tenant_b
    ban = account_change(b.waba_id, "account_disabled")
    ban["entry"][0]["changes"][0]["value"]["ban_info"]["waba_ban_state"] = "DISABLE"
    # the attacker's own business account, with a change naming the victim's number
    violation = account_change(a.waba_id, "account_violation", phone_number_id=b.phone_number_id)
    event = await deliver(
        client,
        runtime,
        one_body(about(a, sample("message.json", "text")), ban, violation),
        secret=SECRET_A,
    )
    assert await account_status(runtime, b) == AccountStatus.CONNECTED
    assert await count(runtime, AccountAlert, AccountAlert.organization_id == org_b.id) == 0
    assert len(await messages_of(runtime, org_a.id)) == 1
    assert event.error and event.error.startswith("ignored: 2 change(s)")

    await deliver(client, runtime, one_body(ban))  # the same ban, signed by the platform's app
    assert await account_status(runtime, b) == AccountStatus.DISABLED


async def test_template_updates_of_another_tenants_business_account_are_not_recorded(
    client, runtime, tenant_a, tenant_b
):
    org_a, a = tenant_a
    org_b, b = tenant_b
    template = copy.deepcopy(sample("template_status_update.json", "rejected"))
    template["entry"][0]["id"] = b.waba_id
    own = copy.deepcopy(template)
    own["entry"][0]["id"] = a.waba_id
    await deliver(client, runtime, one_body(own, template), secret=SECRET_A)
    assert await count(runtime, TemplateEvent, TemplateEvent.organization_id == org_b.id) == 0
    assert await count(runtime, TemplateEvent, TemplateEvent.organization_id == org_a.id) == 1


async def test_the_platforms_secret_signs_for_every_number_without_its_own(client, runtime, factory, graph):
    first, second = await factory.org(), await factory.org()
    one = await connect_number(runtime, graph, first.id)
    two = await connect_number(runtime, graph, second.id)
    body = one_body(about(one, sample("message.json", "text")), about(two, sample("message.json", "text")))
    event = await deliver(client, runtime, body, secret=META_APP_SECRET)
    assert len(await messages_of(runtime, first.id)) == 1
    assert len(await messages_of(runtime, second.id)) == 1
    assert event.error is None
    assert set(event.signature_scope) == {one.phone_number_id, two.phone_number_id}


async def test_an_events_stored_before_scopes_reach_only_numbers_the_platform_signs(
    runtime, factory, graph, tenant_a, tenant_b
):
    """Rows stored before signature scopes were recorded are taken as signed by the platform's app."""
    org_a, a = tenant_a
    org_b, b = tenant_b
    body = one_body(about(a, sample("message.json", "text")), about(b, sample("message.json", "text")))
    async with runtime.unit_of_work() as session:
        event = WebhookEvent(body=body, phone_number_id=a.phone_number_id)
        session.add(event)
    await runtime.jobs.kick("whatsapp.drain_webhooks")
    done = await processed(runtime, event.id)
    assert done.signature_scope is None
    assert await messages_of(runtime, org_a.id) == []  # it has its own app secret
    assert len(await messages_of(runtime, org_b.id)) == 1


async def test_a_signature_covers_the_numbers_of_a_business_account_it_signs(
    client, runtime, factory, graph, tenant_a
):
    """An account-wide change signed with a tenant's own secret reaches its own numbers of the
    account, not another tenant's number registered on the same account id."""
    org_a, a = tenant_a
    other = await factory.org()
    squatter = await connect_number(runtime, graph, other.id)
    async with runtime.unit_of_work() as session:
        (await session.get_one(WhatsAppAccount, squatter.id)).waba_id = a.waba_id
    violation = account_change(a.waba_id, "account_violation")
    await deliver(client, runtime, one_body(violation), secret=SECRET_A)
    assert await count(runtime, AccountAlert, AccountAlert.organization_id == org_a.id) == 1
    assert await count(runtime, AccountAlert, AccountAlert.organization_id == other.id) == 0
