"""POST /auth/set-password: a password is replaced only by someone who proves the account is
theirs (its current password, or a one-time code just verified), so a stolen access token alone
does not take the account over."""

from __future__ import annotations

from datetime import timedelta

import jwt

from cxinbox.auth.tokens import ALGORITHM, BY_CODE
from cxinbox.core.clock import utcnow
from cxinbox.core.crypto import derive_key
from cxinbox.models.identity import Role, User
from cxinbox.sign_in.service import FRESH_CODE_SECONDS
from tests.fixtures.api import bearer
from tests.fixtures.errors import error_of
from tests.fixtures.factories import PASSWORD, update_rows

WRONG_GUESSES_ALLOWED = 5
NEW = "a-brand-new-one"


async def set_password(client, headers, **body):
    return await client.post("/auth/set-password", json={"password": NEW, **body}, headers=headers)


async def signs_in(client, email: str, password: str) -> bool:
    r = await client.post("/auth/login", json={"email": email, "password": password})
    return r.status_code == 200


async def code_session(client, smtp, email: str) -> dict:
    assert (await client.post("/auth/request-code", json={"email": email})).status_code == 200
    code = await smtp.latest_code(email)
    r = await client.post("/auth/verify-code", json={"email": email, "code": code})
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_a_stolen_access_token_cannot_replace_the_password(client, factory):
    org = await factory.org()
    victim = await factory.member(org.id, Role.AGENT)
    stolen = victim.headers
    error = error_of(await set_password(client, stolen), 400, "CURRENT_PASSWORD_REQUIRED")
    assert error["details"] == [{"field": "currentPassword", "message": "is required"}]
    for _ in range(WRONG_GUESSES_ALLOWED):
        error_of(await set_password(client, stolen, currentPassword="guess-123"), 400, "INVALID_PASSWORD")
    r = await set_password(client, stolen, currentPassword="guess-456")
    error_of(r, 429, "RATE_LIMITED")
    assert int(r.headers["retry-after"]) >= 1
    # even the right guess waits now, and the victim's password still works, the attacker's does not
    error_of(await set_password(client, stolen, currentPassword=PASSWORD), 429, "RATE_LIMITED")
    assert await signs_in(client, victim.email, PASSWORD)
    assert not await signs_in(client, victim.email, NEW)


async def test_the_current_password_lets_the_owner_replace_it(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    error_of(await set_password(client, agent.headers, currentPassword="wrong-one"), 400, "INVALID_PASSWORD")
    r = await set_password(client, agent.headers, currentPassword=PASSWORD)
    assert r.status_code == 200, r.text
    assert await signs_in(client, agent.email, NEW)


async def test_a_fresh_sign_in_by_code_replaces_it_without_the_old_one(client, factory, smtp):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    session = await code_session(client, smtp, agent.email)
    r = await set_password(client, bearer(session["accessToken"]))
    assert r.status_code == 200, r.text
    assert await signs_in(client, agent.email, NEW)


async def test_a_refreshed_code_session_is_not_fresh(client, factory, smtp):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    session = await code_session(client, smtp, agent.email)
    refreshed = await client.post("/auth/refresh", json={"refreshToken": session["refreshToken"]})
    headers = bearer(refreshed.json()["data"]["accessToken"])
    error_of(await set_password(client, headers), 400, "CURRENT_PASSWORD_REQUIRED")


async def test_an_old_sign_in_by_code_is_not_fresh(client, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    signed_at = utcnow() - timedelta(seconds=FRESH_CODE_SECONDS + 60)
    claims = {
        "sub": agent.id,
        "org": org.id,
        "role": "AGENT",
        "amr": BY_CODE,
        "typ": "access",
        "iat": signed_at,
        "exp": utcnow() + timedelta(minutes=5),
    }
    token = jwt.encode(claims, derive_key(runtime.settings.secret_key, "jwt-signing"), algorithm=ALGORITHM)
    assert (await client.get("/auth/me", headers=bearer(token))).status_code == 200
    error_of(await set_password(client, bearer(token)), 400, "CURRENT_PASSWORD_REQUIRED")


async def test_a_user_without_a_password_needs_none(client, factory, runtime):
    org = await factory.org()
    invited = await factory.member(org.id, Role.AGENT)
    await update_rows(runtime, User, User.id == invited.id, password_hash=None)
    r = await set_password(client, invited.headers)
    assert r.status_code == 200, r.text
    assert await signs_in(client, invited.email, NEW)
