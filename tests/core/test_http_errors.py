"""The error envelope for everything the framework answers itself, body limits and request ids."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from cxinbox.app import API_PREFIX, create_app
from tests.fixtures.api import running
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.factories import unique_email

SMALL_LIMIT = 1024
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def small_client(runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app whose JSON body limit is ``SMALL_LIMIT`` bytes."""
    settings = runtime.settings.model_copy(update={"max_json_body_bytes": SMALL_LIMIT})
    async with running(create_app(settings, runtime=runtime)) as c:
        yield c


async def test_malformed_json_answers_400_validation_error(client):
    r = await client.post("/auth/login", content=b'{"email": "a@b.co", ', headers=JSON)
    error = error_of(r, 400, "VALIDATION_ERROR")
    assert error["details"] == [{"field": "body", "message": "Malformed JSON"}]


async def test_a_body_that_is_not_utf8_answers_400_validation_error(client):
    r = await client.post("/auth/login", content=b'{"email": "\xff"}', headers=JSON)
    assert bad_fields(r) == {"body"}


@pytest.mark.parametrize("body", [[], "text", 5, None])
async def test_a_body_that_is_not_an_object_answers_400(client, body):
    r = await client.post("/auth/login", json=body)
    assert bad_fields(r) == {"body"}


async def test_wrong_types_name_each_field(client):
    r = await client.post("/auth/login", json={"email": 5, "password": ["x"]})
    assert bad_fields(r) == {"email", "password"}
    r = await client.post(
        "/auth/register",
        json={"companyName": {"a": 1}, "name": True, "email": unique_email(), "password": 12345678},
    )
    assert bad_fields(r) == {"companyName", "name", "password"}


@pytest.mark.parametrize("url", ["/no-such-route", "/auth/nope", "http://test/outside-the-api"])
async def test_an_unknown_route_answers_404(client, url):
    error_of(await client.get(url), 404, "NOT_FOUND")


async def test_a_wrong_method_answers_405(client):
    r = await client.delete("/auth/login")
    error_of(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["allow"] == "POST"
    error_of(await client.put("/api-keys", json={}), 405, "METHOD_NOT_ALLOWED")


async def test_a_body_over_the_limit_answers_413_by_content_length(small_client):
    r = await small_client.post("/auth/login", content=b"x" * (SMALL_LIMIT + 1), headers=JSON)
    error_of(r, 413, "PAYLOAD_TOO_LARGE")


async def test_a_chunked_body_over_the_limit_answers_413(small_client):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(SMALL_LIMIT // 100 + 2):
            yield b" " * 100

    r = await small_client.post("/auth/login", content=chunks(), headers=JSON)
    assert "content-length" not in r.request.headers
    error_of(r, 413, "PAYLOAD_TOO_LARGE")


async def test_a_body_within_the_limit_is_read(small_client):
    r = await small_client.post("/auth/login", json={"email": unique_email(), "password": "x" * 100})
    error_of(r, 401, "UNAUTHORIZED")


@pytest.mark.parametrize("path", ["/auth/login", "/webhooks/whatsapp"])
async def test_a_multipart_type_does_not_lift_the_limit_of_a_route_without_uploads(client, path):
    five_mb = b"x" * (5 * 1024 * 1024)
    r = await client.post(path, files={"file": ("a.txt", five_mb)})
    error_of(r, 413, "PAYLOAD_TOO_LARGE")
    headers = {"Content-Type": "multipart/form-data; boundary=x"}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: caught while it streams in
        for _ in range(5):
            yield five_mb[: 1024 * 1024]

    error_of(await client.post(path, content=chunks(), headers=headers), 413, "PAYLOAD_TOO_LARGE")


async def test_routes_that_take_a_file_have_the_larger_upload_limit(small_client):
    r = await small_client.post("/profile/avatar", files={"avatar": ("a.png", b"x" * (SMALL_LIMIT * 2))})
    error_of(r, 401, "UNAUTHORIZED")  # read past the small limit, refused for its missing credentials


async def test_an_unexpected_error_answers_500_without_a_stack_trace(runtime):
    application = create_app(runtime.settings, runtime=runtime)

    async def explode() -> None:
        raise RuntimeError("secret internals")

    application.add_api_route(f"{API_PREFIX}/explode", explode)
    async with running(application, raise_app_exceptions=False) as c:
        r = await c.get("/explode")
    error_of(r, 500, "INTERNAL_ERROR")
    assert "secret internals" not in r.text


async def test_the_request_id_is_echoed(client):
    r = await client.get("/health", headers={"X-Request-ID": "abc-123.xyz"})
    assert r.headers["x-request-id"] == "abc-123.xyz"
    r = await client.post("/auth/login", content=b"{", headers={**JSON, "X-Request-ID": "on-an-error"})
    assert r.status_code == 400 and r.headers["x-request-id"] == "on-an-error"


async def test_a_request_id_is_generated_when_absent_or_unusable(client):
    first = (await client.get("/health")).headers["x-request-id"]
    second = (await client.get("/health")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
    r = await client.get("/health", headers={"X-Request-ID": b"\xff\xfe bad id"})
    assert r.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


async def test_a_413_carries_the_request_id(small_client):
    r = await small_client.post(
        "/auth/login", content=b"x" * (SMALL_LIMIT + 1), headers={"X-Request-ID": "big-1"}
    )
    assert r.status_code == 413 and r.headers["x-request-id"] == "big-1"
