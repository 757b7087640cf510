"""Rate limits of the sign-in endpoints: failed logins and code requests per address and per
(address, email), never per email alone (anyone could lock anyone out); sign-ups per address."""

from __future__ import annotations

import random

import httpx

from tests.fixtures.api import api_client
from tests.fixtures.errors import error_of
from tests.fixtures.factories import PASSWORD, unique_email

FAILED_LOGINS_ALLOWED = 5  # the first step of the backoff of one address at one email
FAILED_LOGINS_PER_IP = 20  # the first step of one address's failures at any emails
CODE_REQUESTS_ALLOWED = 5
CODE_REQUESTS_PER_IP = 20
CODE_VERIFICATIONS_PER_IP = 30
REGISTRATIONS_PER_IP = 30


def rate_limited(response: httpx.Response) -> None:
    error = error_of(response, 429, "RATE_LIMITED")
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    assert error["details"]["retryAfter"] == retry_after


async def login(client, email: str, password: str):
    return await client.post("/auth/login", json={"email": email, "password": password})


async def test_failed_logins_hold_back_the_address_even_with_the_right_password(client, factory):
    org = await factory.org()
    for _ in range(FAILED_LOGINS_ALLOWED):
        error_of(await login(client, org.admin.email, "wrong-password"), 401, "UNAUTHORIZED")
    rate_limited(await login(client, org.admin.email, PASSWORD))
    rate_limited(await login(client, org.admin.email.upper(), "wrong-password"))
    # other accounts are not affected
    other = await factory.org()
    assert (await login(client, other.admin.email, PASSWORD)).status_code == 200


async def test_a_successful_login_clears_the_failures(client, factory):
    org = await factory.org()
    for _ in range(2):
        for _ in range(FAILED_LOGINS_ALLOWED - 1):
            await login(client, org.admin.email, "wrong-password")
        assert (await login(client, org.admin.email, PASSWORD)).status_code == 200


async def test_failed_logins_for_an_unknown_email_are_limited_too(client):
    email = unique_email("nobody")
    for _ in range(FAILED_LOGINS_ALLOWED):
        error_of(await login(client, email, "guess"), 401, "UNAUTHORIZED")
    rate_limited(await login(client, email, "guess"))


async def test_code_requests_are_limited_per_address_and_email(client, factory, smtp):
    org = await factory.org()
    for _ in range(CODE_REQUESTS_ALLOWED):
        assert (await client.post("/auth/request-code", json={"email": org.admin.email})).status_code == 200
    rate_limited(await client.post("/auth/request-code", json={"email": org.admin.email}))
    await smtp.wait_for(org.admin.email, count=CODE_REQUESTS_ALLOWED)
    assert len(smtp.messages_to(org.admin.email)) == CODE_REQUESTS_ALLOWED
    other = await factory.org()
    assert (await client.post("/auth/request-code", json={"email": other.admin.email})).status_code == 200


def random_address() -> tuple[str, int]:
    return f"172.{random.randint(16, 31)}.{random.randint(0, 255)}.{random.randint(1, 254)}", 50000


async def register(client: httpx.AsyncClient) -> httpx.Response:
    body = {"companyName": "Busy Co", "name": "Ann", "email": unique_email("reg"), "password": "secret123"}
    return await client.post("/auth/register", json=body)


async def test_registrations_are_limited_per_ip(app):
    async with (
        api_client(app, client=random_address()) as busy,
        api_client(app, client=random_address()) as other,
    ):
        for _ in range(REGISTRATIONS_PER_IP):
            assert (await register(busy)).status_code == 201
        rate_limited(await register(busy))
        assert (await register(other)).status_code == 201


async def test_an_attacker_cannot_lock_a_victim_out(app, factory):
    org = await factory.org()
    victim = org.admin.email
    async with (
        api_client(app, client=random_address()) as attacker,
        api_client(app, client=random_address()) as owner,
    ):
        for _ in range(FAILED_LOGINS_ALLOWED):
            error_of(await login(attacker, victim, "guess"), 401, "UNAUTHORIZED")
        for _ in range(3):  # persisting only lengthens the attacker's own wait
            rate_limited(await login(attacker, victim, "guess"))
        assert (await login(owner, victim, PASSWORD)).status_code == 200
        for _ in range(CODE_REQUESTS_ALLOWED):
            await attacker.post("/auth/request-code", json={"email": victim})
        rate_limited(await attacker.post("/auth/request-code", json={"email": victim}))
        assert (await owner.post("/auth/request-code", json={"email": victim})).status_code == 200


async def test_one_address_spraying_many_emails_is_held_back(app, factory):
    org = await factory.org()
    async with api_client(app, client=random_address()) as sprayer:
        for _ in range(FAILED_LOGINS_PER_IP):
            error_of(await login(sprayer, unique_email("spray"), "Summer2026!"), 401, "UNAUTHORIZED")
        rate_limited(await login(sprayer, unique_email("spray"), "Summer2026!"))
        rate_limited(await login(sprayer, org.admin.email, PASSWORD))
        for _ in range(CODE_REQUESTS_PER_IP):
            assert (
                await sprayer.post("/auth/request-code", json={"email": unique_email("spray")})
            ).status_code == 200
        rate_limited(await sprayer.post("/auth/request-code", json={"email": unique_email("spray")}))
        for _ in range(CODE_VERIFICATIONS_PER_IP):
            body = {"email": unique_email("spray"), "code": "123456"}
            error_of(await sprayer.post("/auth/verify-code", json=body), 400, "INVALID_CODE")
        rate_limited(
            await sprayer.post("/auth/verify-code", json={"email": org.admin.email, "code": "123456"})
        )
    async with api_client(app, client=random_address()) as elsewhere:
        assert (await login(elsewhere, org.admin.email, PASSWORD)).status_code == 200
