"""The OpenAPI document shows an example of every main request and response body, each one a valid
body of its model, and shaped as the API really answers (the same fields, camelCase, at every level)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel

from tests.fixtures.factories import unique_email
from tests.fixtures.routes import default_document
from tests.fixtures.whatsapp import unique_number

REQUESTS = (
    "RegisterBody",
    "LoginBody",
    "SendMessage",
    "CreateTag",
    "CreateQuickReply",
    "CreateTeam",
    "CreateApiKey",
    "ConnectManual",
    "CreateInvitation",
)
RESPONSES = (
    "TokenBundle",
    "UserOut",
    "ConversationOut",
    "MessageOut",
    "ContactOut",
    "TagOut",
    "QuickReplyOut",
    "TeamOut",
    "TeamDetail",
    "ApiKeyCreated",
    "ApiKeyOut",
    "WhatsAppAccountOut",
    "InvitationOut",
)


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    pending = [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            found.setdefault(model.__name__, model)
            pending.append(model)
    return found


def _examples() -> dict[str, list[dict[str, Any]]]:
    schemas = default_document()["components"]["schemas"]
    return {name: schemas[name].get("examples", []) for name in (*REQUESTS, *RESPONSES)}


def test_main_bodies_have_examples_that_their_models_accept() -> None:
    models = _models()
    for name, examples in _examples().items():
        assert examples, f"{name} has no example"
        for example in examples:
            parsed = models[name].model_validate(example)
            if name in RESPONSES:  # an answer names every field, as the API writes it
                assert parsed.model_dump(mode="json", by_alias=True) == example, name


def test_a_subclass_that_adds_a_required_field_shows_no_inherited_example() -> None:
    schemas = default_document()["components"]["schemas"]
    assert "examples" not in schemas["ConversationDetail"]  # a ConversationOut and more
    assert schemas["TeamDetail"]["examples"] != schemas["TeamOut"]["examples"]


def _same_shape(example: Any, answer: Any, where: str) -> None:
    if isinstance(example, dict) and isinstance(answer, dict):
        assert example.keys() == answer.keys(), f"{where}: {example.keys() ^ answer.keys()}"
        for key in example:
            _same_shape(example[key], answer[key], f"{where}.{key}")
    elif isinstance(example, list) and isinstance(answer, list) and example and answer:
        _same_shape(example[0], answer[0], f"{where}[0]")


async def test_the_examples_are_shaped_like_real_answers(client, graph) -> None:
    examples = _examples()
    answers: dict[str, Any] = {}

    async def call(method: str, path: str, **kwargs: Any) -> Any:
        r = await client.request(method, path, headers=headers, **kwargs)
        assert r.status_code < 300, r.text
        return r.json()["data"]

    headers: dict[str, str] = {}
    answers["TokenBundle"] = await call(
        "POST",
        "/auth/register",
        json={
            "email": unique_email(),
            "password": "correct horse battery",
            "name": "Ana",
            "companyName": "Acme",
        },
    )
    headers = {"Authorization": f"Bearer {answers['TokenBundle']['accessToken']}"}
    [answers["UserOut"]] = await call("GET", "/users")
    answers["TeamDetail"] = await call("POST", "/teams", json=examples["CreateTeam"][0])
    [answers["TeamOut"]] = await call("GET", "/teams")
    answers["TagOut"] = await call("POST", "/tags", json=examples["CreateTag"][0])
    answers["QuickReplyOut"] = await call("POST", "/quick-replies", json=examples["CreateQuickReply"][0])
    answers["ApiKeyCreated"] = await call("POST", "/api-keys", json=examples["CreateApiKey"][0])
    [answers["ApiKeyOut"]] = await call("GET", "/api-keys")
    answers["InvitationOut"] = await call(
        "POST", "/invitations", json={"email": unique_email(), "role": "AGENT"}
    )
    waba, number, token = unique_number(), unique_number(), f"token-{uuid.uuid4().hex}"
    graph.add_number(number, token, waba_id=waba)
    connect = examples["ConnectManual"][0] | {"wabaId": waba, "phoneNumberId": number, "accessToken": token}
    answers["WhatsAppAccountOut"] = await call("POST", "/whatsapp-accounts/connect-manual", json=connect)
    simulated = await call("POST", "/dev/simulate/conversation", json={"text": "Hi, where is my order?"})
    answers["ConversationOut"] = simulated["conversation"]
    answers["ContactOut"] = simulated["conversation"]["contact"]
    conversation = simulated["conversation"]["id"]
    reply = await call("POST", f"/conversations/{conversation}/messages", json=examples["SendMessage"][0])
    answers["MessageOut"] = reply

    for name in RESPONSES:
        for example in examples[name]:
            _same_shape(example, answers[name], name)
