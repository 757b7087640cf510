"""Input that a database or the runtime cannot take answers 400 VALIDATION_ERROR naming the field,
on every route (``core/validation.py``): control characters, huge numbers, far datetimes, crafted
cursors and event ids, odd path ids. Runs on SQLite and on PostgreSQL (where a NUL byte fails the
statement)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from cxinbox.app import ROUTERS
from cxinbox.core.wire import RequestModel
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.inbox import seed_conversations
from tests.fixtures.whatsapp import connect_number

FAR_DATETIME = "9999-12-31T23:59:59-14:00"


@pytest.fixture
async def conversation(runtime, factory, graph) -> tuple[Any, str]:
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    [conversation_id] = await seed_conversations(runtime, org.id, account.id, 1)
    return org, conversation_id


@pytest.mark.parametrize("text", ["a\u0000b", "bell\u0007", "escape\u001b[31m", "del\u007f"])
async def test_control_characters_in_a_body_string_answer_400(client, factory, text):
    org = await factory.org()
    r = await client.post("/tags", json={"name": text}, headers=org.admin.headers)
    assert bad_fields(r) == {"name"}
    assert "control characters" in r.text


async def test_control_characters_deep_inside_a_body_name_their_place(client, factory):
    org = await factory.org()
    r = await client.post(
        "/auth/register",
        json={"companyName": "Acme\u0000", "name": "A", "email": "a@example.com", "password": "x" * 12},
    )
    assert bad_fields(r) == {"companyName"}
    r = await client.post(
        "/invitations/bulk",
        json={"invitations": [{"email": "b@example.com", "name": "B\u0000"}]},
        headers=org.admin.headers,
    )
    assert bad_fields(r) == {"invitations.0.name"}


async def test_tabs_and_line_breaks_are_ordinary_text(client, factory):
    org = await factory.org()
    r = await client.post(
        "/quick-replies",
        json={"title": "Hi\tthere", "shortcut": "hi-there", "content": "Line one\r\nLine two"},
        headers=org.admin.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["content"] == "Line one\r\nLine two"


@pytest.mark.parametrize("path", ["/users?search=a%00b", "/conversations?search=%00", "/tags?x%00=1"])
async def test_control_characters_in_the_query_string_answer_400(client, factory, path):
    org = await factory.org()
    r = await client.get(path, headers=org.admin.headers)
    error = error_of(r, 400, "VALIDATION_ERROR")
    assert error["details"][0]["field"] in {"search", "x?"}


async def test_control_characters_in_a_header_answer_400(client, factory):
    org = await factory.org()
    r = await client.get("/tags", headers={**org.admin.headers, "X-Note": "a\u0000b"})
    assert bad_fields(r) == {"x-note"}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/conversations/a%00b", "id"),
        ("/conversations/" + "1" * 65, "id"),
        ("/conversations/a%20b", "id"),
        ("/conversations/%E2%98%83", "id"),
        ("/invitations/token/a%00b", "token"),
    ],
)
async def test_a_path_id_that_cannot_be_an_id_answers_400(client, factory, path, field):
    org = await factory.org()
    assert bad_fields(await client.get(path, headers=org.admin.headers)) == {field}


async def test_a_well_formed_unknown_id_still_answers_404(client, factory):
    org = await factory.org()
    r = await client.get("/conversations/0194f1d2-0000-7000-8000-000000000000", headers=org.admin.headers)
    error_of(r, 404, "NOT_FOUND")


@pytest.mark.parametrize("page", [str(10**19), str(2**63), "1000001"])
async def test_a_page_past_the_bound_answers_400(client, factory, page):
    org = await factory.org()
    assert bad_fields(await client.get(f"/users?page={page}", headers=org.admin.headers)) == {"page"}
    assert bad_fields(await client.get(f"/messages/failed?page={page}", headers=org.admin.headers)) == {
        "page"
    }


async def test_the_last_allowed_page_is_an_empty_page(client, factory):
    org = await factory.org()
    r = await client.get("/users?page=1000000&limit=100", headers=org.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == []


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "[" * 5000,
        _cursor(b"[" * 5000),
        _cursor(b"[" * 300),
        _cursor(b'[["2026-01-01T00:00:00", "x"], "y"]'),
        _cursor(b'["9999-12-31T23:59:59-14:00", "x"]'),
        _cursor(b'["2026-01-01T00:00:00", "a\\u0000b"]'),
        _cursor(b'["2026-01-01T00:00:00", 1180591620717411303424]'),
        "not base64 !",
    ],
)
async def test_a_crafted_messages_cursor_answers_400(client, conversation, cursor):
    org, conversation_id = conversation
    r = await client.get(
        f"/conversations/{conversation_id}/messages", params={"cursor": cursor}, headers=org.admin.headers
    )
    assert bad_fields(r) == {"cursor"}


@pytest.mark.parametrize("due_at", [FAR_DATETIME, "0001-01-01T00:00:00+14:00", "3000-01-01T00:00:00Z"])
async def test_a_follow_up_due_far_away_answers_400(client, conversation, due_at):
    org, conversation_id = conversation
    r = await client.post(
        f"/conversations/{conversation_id}/follow-up", json={"dueAt": due_at}, headers=org.admin.headers
    )
    assert bad_fields(r) == {"dueAt"}


async def test_a_follow_up_due_in_another_zone_is_stored_in_utc(client, conversation):
    org, conversation_id = conversation
    r = await client.post(
        f"/conversations/{conversation_id}/follow-up",
        json={"dueAt": "2999-12-31T20:00:00-03:00"},
        headers=org.admin.headers,
    )
    assert r.status_code == 200, r.text
    assert "2999-12-31T23:00:00Z" in r.text


async def test_an_api_key_expiring_far_away_answers_400(client, factory):
    org = await factory.org()
    r = await client.post(
        "/api-keys", json={"name": "k", "expiresAt": FAR_DATETIME}, headers=org.admin.headers
    )
    assert bad_fields(r) == {"expiresAt"}


@pytest.mark.parametrize("value", [str(2**70), str(2**63), "-1", "1e3", "0x10"])
async def test_an_event_id_out_of_range_answers_400_before_the_stream_opens(client, factory, value):
    org = await factory.org()
    r = await client.get("/events", headers={**org.admin.headers, "Last-Event-ID": value})
    assert bad_fields(r) == {"Last-Event-ID"}
    if value.isdigit():
        r = await client.get(f"/events?lastEventId={value}", headers=org.admin.headers)
        assert bad_fields(r) == {"lastEventId"}


async def test_an_enum_error_shows_the_values_a_client_may_send(client, factory):
    org = await factory.org()
    r = await client.post(
        "/users", json={"email": "c@example.com", "name": "C", "role": "OWNER"}, headers=org.admin.headers
    )
    error = error_of(r, 400, "VALIDATION_ERROR")
    assert error["details"] == [
        {"field": "role", "message": "Input should be 'ADMIN', 'SUPERVISOR' or 'AGENT'"}
    ]
    r = await client.get("/users?role=OWNER", headers=org.admin.headers)
    message = error_of(r, 400, "VALIDATION_ERROR")["details"][0]["message"]
    assert "<" not in message and "'ADMIN'" in message


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


def test_every_json_body_is_a_request_model():
    """Every route's JSON body is a ``RequestModel``, whose every field (nested ones included) goes
    through the shared validation: a new body model that is not one fails here."""
    for router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            for param in route.dependant.body_params:
                for model in _models_in(param.field_info.annotation):
                    assert issubclass(model, RequestModel), f"{route.path}: {model.__name__}"


async def test_control_characters_in_a_form_field_answer_400(client, conversation):
    org, conversation_id = conversation
    r = await client.post(
        f"/conversations/{conversation_id}/messages/media",
        files={"file": ("a.txt", b"hello", "text/plain")},
        data={"caption": "a\u0000b"},
        headers=org.admin.headers,
    )
    assert bad_fields(r) == {"caption"}


@pytest.mark.parametrize("team_id", ["a\u0000", "x" * 65, "has space", ""])
async def test_an_id_in_a_body_that_cannot_be_an_id_answers_400(client, factory, team_id):
    org = await factory.org()
    body = {"email": "d@example.com", "name": "D", "teamIds": [team_id]}
    assert bad_fields(await client.post("/users", json=body, headers=org.admin.headers)) == {"teamIds.0"}
