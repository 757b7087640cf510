"""Connecting a number takes nothing on trust: Meta confirms, with the given token, that the number is
one of the business account's and that the token can read it; a number or business account of
another organization is refused; when Meta cannot confirm, nothing is stored."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from cxinbox.models.identity import Plan
from cxinbox.models.whatsapp import AccountAlert, WhatsAppAccount
from tests.fixtures.whatsapp import deliver, sample, unique_number

CONNECT = "/whatsapp-accounts/connect-manual"


def meta_number(graph, waba: str, token: str | None = None) -> dict:
    """A number Meta knows in the business account ``waba``, managed with ``token``; the body that
    connects it."""
    token = token or f"token-{uuid.uuid4().hex}"
    number = unique_number()
    graph.add_number(number, token, waba_id=waba)
    return {"wabaId": waba, "phoneNumberId": number, "accessToken": token}


async def accounts_of(runtime, organization_id: str) -> int:
    async with runtime.sessionmaker() as session:
        stmt = select(func.count()).where(WhatsAppAccount.organization_id == organization_id)
        return int(await session.scalar(stmt) or 0)


async def test_another_organizations_business_account_cannot_be_claimed(client, runtime, factory, graph):
    owner, intruder = await factory.org(), await factory.org()
    victim = meta_number(graph, unique_number())
    r = await client.post(CONNECT, json=victim, headers=owner.admin.headers)
    assert r.status_code == 201, r.text
    own = meta_number(graph, unique_number())  # the intruder's real number, in its own account
    r = await client.post(CONNECT, json=own | {"wabaId": victim["wabaId"]}, headers=intruder.admin.headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == "wabaId"
    assert await accounts_of(runtime, intruder.id) == 0
    # the victim's account events reach the victim only
    violation = sample("account_update.json", "account_violation")
    violation["entry"][0]["id"] = victim["wabaId"]
    await deliver(client, runtime, json.dumps(violation).encode())
    async with runtime.sessionmaker() as session:
        stmt = select(func.count()).where(AccountAlert.organization_id == intruder.id)
        assert await session.scalar(stmt) == 0


async def test_a_number_outside_the_business_account_is_refused(client, runtime, factory, graph):
    org = await factory.org()
    token = f"token-{uuid.uuid4().hex}"
    first = meta_number(graph, unique_number(), token)
    elsewhere = meta_number(graph, unique_number(), token)  # the same token manages another account
    r = await client.post(
        CONNECT, json=first | {"phoneNumberId": elsewhere["phoneNumberId"]}, headers=org.admin.headers
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == "phoneNumberId"
    assert await accounts_of(runtime, org.id) == 0


async def test_a_business_account_of_another_organization_is_409_like_its_numbers(client, factory, graph):
    """A token that manages the account (a partner's) still cannot split it between organizations:
    the answer is the one a number connected elsewhere gets."""
    first, second = await factory.org(plan=Plan.PROFESSIONAL), await factory.org(plan=Plan.PROFESSIONAL)
    waba, token = unique_number(), f"token-{uuid.uuid4().hex}"
    one, two = meta_number(graph, waba, token), meta_number(graph, waba, token)
    assert (await client.post(CONNECT, json=one, headers=first.admin.headers)).status_code == 201
    by_account = await client.post(CONNECT, json=two, headers=second.admin.headers)
    by_number = await client.post(CONNECT, json=one, headers=second.admin.headers)
    assert by_account.status_code == by_number.status_code == 409
    assert by_account.json() == by_number.json()
    assert by_account.json()["error"]["code"] == "ALREADY_CONNECTED"
    r = await client.post(CONNECT, json=two, headers=first.admin.headers)  # the owner adds another number
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("failing", "failure"),
    [("wabaId", (500, 2)), ("phoneNumberId", (503, 1)), ("wabaId", (400, 131000))],
)
async def test_when_meta_cannot_confirm_it_is_503_and_nothing_is_stored(
    client, runtime, factory, graph, failing, failure
):
    org = await factory.org()
    body = meta_number(graph, unique_number())
    graph.fail_next_reads(body[failing], failure)
    r = await client.post(CONNECT, json=body, headers=org.admin.headers)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "GRAPH_UNAVAILABLE"
    assert int(r.headers["Retry-After"]) > 0
    assert await accounts_of(runtime, org.id) == 0
    r = await client.post(CONNECT, json=body, headers=org.admin.headers)  # Meta answers again
    assert r.status_code == 201, r.text


async def test_every_page_of_the_business_accounts_numbers_is_read(client, factory, graph):
    org = await factory.org()
    waba, token = unique_number(), f"token-{uuid.uuid4().hex}"
    bodies = [meta_number(graph, waba, token) for _ in range(250)]
    r = await client.post(CONNECT, json=bodies[-1], headers=org.admin.headers)
    assert r.status_code == 201, r.text


async def test_embedded_signup_confirms_the_number_too(client, runtime, factory, graph):
    org = await factory.org()
    token, code = f"business-token-{uuid.uuid4().hex}", f"code-{uuid.uuid4().hex}"
    graph.add_code(code, token)
    number = unique_number()
    graph.add_number(number, token, waba_id=unique_number())
    other = meta_number(graph, unique_number())  # an account the token does not manage
    r = await client.post(
        "/whatsapp-accounts/connect",
        json={"code": code, "wabaId": other["wabaId"], "phoneNumberId": number},
        headers=org.admin.headers,
    )
    assert r.status_code == 400, r.text
    assert await accounts_of(runtime, org.id) == 0
