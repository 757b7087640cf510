"""POST /auth/register: a new organization and its first admin."""

from __future__ import annotations

import asyncio

import pytest

from tests.fixtures.api import bearer
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.factories import unique_email


def registration(**overrides: str) -> dict[str, str]:
    body = {"companyName": "Acme Ltd", "name": "Ann", "email": unique_email("ann"), "password": "secret123"}
    return body | overrides


async def test_register_answers_201_with_tokens_and_the_admin(client):
    body = registration()
    r = await client.post("/auth/register", json=body)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["accessToken"] and data["refreshToken"] and data["expiresIn"] > 0
    user = data["user"]
    assert set(user) == {"id", "email", "name", "role", "organizationId"}
    assert user["email"] == body["email"]
    assert user["name"] == "Ann"
    assert user["role"] == "ADMIN"
    assert user["organizationId"]

    me = await client.get("/auth/me", headers=bearer(data["accessToken"]))
    assert me.status_code == 200, me.text
    org = me.json()["data"]["organization"]
    assert org["id"] == user["organizationId"]
    assert org["name"] == "Acme Ltd"
    assert org["slug"].startswith("acme-ltd")
    assert org["plan"] == "FREE" and org["status"] == "ACTIVE"
    assert org["onboardingCompleted"] is False


async def test_register_normalises_the_email(client):
    email = unique_email("Mixed")
    r = await client.post("/auth/register", json=registration(email=f"  {email.upper()} "))
    assert r.status_code == 201, r.text
    assert r.json()["data"]["user"]["email"] == email.lower()


async def test_two_organizations_with_one_name_get_distinct_slugs(client):
    name = f"Same Name {unique_email()[:12]}"
    first = await client.post("/auth/register", json=registration(companyName=name))
    second = await client.post("/auth/register", json=registration(companyName=name))
    slugs = set()
    for r in (first, second):
        me = await client.get("/auth/me", headers=bearer(r.json()["data"]["accessToken"]))
        slugs.add(me.json()["data"]["organization"]["slug"])
    assert len(slugs) == 2


async def test_a_taken_email_answers_409_in_any_case(client):
    body = registration()
    assert (await client.post("/auth/register", json=body)).status_code == 201
    again = await client.post("/auth/register", json=registration(email=body["email"].upper()))
    error = error_of(again, 409, "CONFLICT")
    assert error["details"] == [{"field": "email", "message": "taken"}]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"companyName": ""}, "companyName"),
        ({"name": ""}, "name"),
    ],
)
async def test_invalid_fields_answer_400_naming_the_field(client, overrides, field):
    r = await client.post("/auth/register", json=registration(**overrides))
    assert bad_fields(r) == {field}


async def test_missing_fields_are_each_named(client):
    r = await client.post("/auth/register", json={})
    assert bad_fields(r) == {"companyName", "name", "email", "password"}


async def test_concurrent_registrations_of_one_email_create_one_account(client):
    body = registration()
    responses = await asyncio.gather(*(client.post("/auth/register", json=body) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            error_of(r, 409, "CONFLICT")
