"""POST /auth/request-code and /auth/verify-code: one-time sign-in codes by email."""

from __future__ import annotations

from datetime import timedelta

from cxinbox.core.clock import utcnow
from cxinbox.models.identity import LoginCode, Organization, OrganizationStatus, Role, User
from tests.fixtures.api import bearer
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.factories import unique_email, update_rows

CODE_VERIFICATIONS_ALLOWED = 10  # per address and email (the first step of its backoff)


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def request_code(client, email: str) -> None:
    r = await client.post("/auth/request-code", json={"email": email})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["sent"] is True


async def verify(client, email: str, code: str):
    return await client.post("/auth/verify-code", json={"email": email, "code": code})


async def test_the_mailed_code_signs_in_once(client, factory, smtp):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    await request_code(client, agent.email)
    [mail] = await smtp.wait_for(agent.email)
    assert "sign-in code" in mail["Subject"]
    code = await smtp.latest_code(agent.email)

    r = await verify(client, agent.email, code)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["user"]["id"] == agent.id and data["user"]["organizationId"] == org.id
    assert (await client.get("/auth/me", headers=bearer(data["accessToken"]))).status_code == 200

    error_of(await verify(client, agent.email, code), 400, "INVALID_CODE")


async def test_a_wrong_code_answers_400_invalid_code(client, factory, smtp):
    org = await factory.org()
    await request_code(client, org.admin.email)
    code = await smtp.latest_code(org.admin.email)
    error_of(await verify(client, org.admin.email, other_than(code)), 400, "INVALID_CODE")
    assert (await verify(client, org.admin.email, code)).status_code == 200


async def test_an_expired_code_is_refused(client, factory, smtp, runtime):
    org = await factory.org()
    await request_code(client, org.admin.email)
    code = await smtp.latest_code(org.admin.email)
    await update_rows(
        runtime, LoginCode, LoginCode.user_id == org.admin.id, expires_at=utcnow() - timedelta(seconds=1)
    )
    error = error_of(await verify(client, org.admin.email, code), 400, "INVALID_CODE")
    assert error["details"]["reason"] == "expired"


async def test_after_the_attempt_limit_even_the_right_code_is_refused(client, factory, smtp, runtime):
    org = await factory.org()
    await request_code(client, org.admin.email)
    code = await smtp.latest_code(org.admin.email)
    for _ in range(runtime.settings.login_code_max_attempts):
        error_of(await verify(client, org.admin.email, other_than(code)), 400, "INVALID_CODE")
    error = error_of(await verify(client, org.admin.email, code), 400, "INVALID_CODE")
    assert error["details"]["reason"] == "too_many_attempts"


async def test_a_new_code_invalidates_the_previous_one(client, factory, smtp):
    org = await factory.org()
    await request_code(client, org.admin.email)
    first = await smtp.latest_code(org.admin.email)
    await request_code(client, org.admin.email)
    second = await smtp.latest_code(org.admin.email, count=2)
    if first != second:  # one chance in a million that both codes are the same number
        error_of(await verify(client, org.admin.email, first), 400, "INVALID_CODE")
    assert (await verify(client, org.admin.email, second)).status_code == 200


async def test_an_unknown_email_answers_200_and_gets_no_mail(client, factory, smtp):
    nobody = unique_email("nobody")
    await request_code(client, nobody)
    # a mail requested afterwards has arrived, so the first request had its chance to send one
    org = await factory.org()
    await request_code(client, org.admin.email)
    await smtp.wait_for(org.admin.email)
    assert smtp.messages_to(nobody) == []
    error_of(await verify(client, nobody, "123456"), 400, "INVALID_CODE")


async def test_verify_without_a_requested_code_answers_invalid_code(client, factory):
    org = await factory.org()
    error_of(await verify(client, org.admin.email, "123456"), 400, "INVALID_CODE")


async def test_validation_errors_name_the_fields(client):
    assert bad_fields(await client.post("/auth/request-code", json={"email": "nope"})) == {"email"}
    r = await client.post("/auth/verify-code", json={"email": unique_email(), "code": "12ab56"})
    assert bad_fields(r) == {"code"}
    assert bad_fields(await client.post("/auth/verify-code", json={})) == {"email", "code"}


async def test_an_inactive_user_gets_no_code(client, factory, smtp, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    await update_rows(runtime, User, User.id == agent.id, is_active=False)
    await request_code(client, agent.email)
    await request_code(client, org.admin.email)
    await smtp.wait_for(org.admin.email)
    assert smtp.messages_to(agent.email) == []


async def test_a_code_of_a_suspended_organization_answers_403(client, factory, smtp, runtime):
    org = await factory.org()
    await request_code(client, org.admin.email)
    code = await smtp.latest_code(org.admin.email)
    await update_rows(runtime, Organization, Organization.id == org.id, status=OrganizationStatus.SUSPENDED)
    error_of(await verify(client, org.admin.email, code), 403, "ORGANIZATION_SUSPENDED")


async def test_no_code_is_mailed_to_a_member_of_a_suspended_organization(client, factory, smtp, runtime):
    org = await factory.org()
    await update_rows(runtime, Organization, Organization.id == org.id, status=OrganizationStatus.SUSPENDED)
    await request_code(client, org.admin.email)
    other = await factory.org()  # a mail sent after ours proves ours was not merely late
    await request_code(client, other.admin.email)
    await smtp.wait_for(other.admin.email)
    assert smtp.messages_to(org.admin.email) == []


async def test_code_verifications_are_rate_limited(client, factory):
    org = await factory.org()
    for _ in range(CODE_VERIFICATIONS_ALLOWED):
        error_of(await verify(client, org.admin.email, "000000"), 400, "INVALID_CODE")
    r = await verify(client, org.admin.email, "000000")
    error_of(r, 429, "RATE_LIMITED")
    assert int(r.headers["retry-after"]) >= 1
