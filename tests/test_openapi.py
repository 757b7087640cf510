"""The OpenAPI document describes the API as it behaves: errors in the contract's envelope, 400 for
bad input (never FastAPI's 422), the codes each operation can answer, and a word on every area."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI

from cxinbox.api_docs.openapi import ERROR_CODES, install_openapi
from cxinbox.core.errors import AppError, Conflict, NotFound
from tests.fixtures.routes import default_document

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_no_operation_documents_the_framework_422() -> None:
    document = default_document()
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert not [name for name, op in _operations(document) if "422" in op["responses"]]
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]


def test_every_operation_names_the_errors_it_can_answer_in_the_envelope() -> None:
    for name, operation in _operations(default_document()):
        responses = operation["responses"]
        expected = set()
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("400")
        if operation.get("security"):
            expected |= {"401", "403"}
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            expected.add("404")
        assert expected <= responses.keys(), f"{name} misses {expected - responses.keys()}"
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == ERROR_REF, (name, status)
                assert response[ERROR_CODES], (name, status)


def test_codes_a_route_declares_are_listed_with_the_automatic_ones() -> None:
    router = APIRouter()

    @router.post("/things/{id}", responses=AppError.responses(NotFound, Conflict(code="THING_LOCKED")))
    async def lock_thing(id: str) -> dict[str, str]:
        return {"id": id}

    app = FastAPI()
    app.include_router(router)
    install_openapi(app)
    responses = app.openapi()["paths"]["/things/{id}"]["post"]["responses"]

    assert responses["409"][ERROR_CODES] == ["THING_LOCKED"]
    assert responses["409"]["description"] == "Conflict: `THING_LOCKED`"
    assert responses["404"][ERROR_CODES] == ["NOT_FOUND"]
    assert responses["400"][ERROR_CODES] == ["VALIDATION_ERROR"]
    assert "401" not in responses  # no credentials, nothing to refuse them


def test_every_area_of_the_document_is_described() -> None:
    document = default_document()
    described = {tag["name"] for tag in document["tags"] if tag.get("description")}
    used = {tag for _, operation in _operations(document) for tag in operation.get("tags", [])}
    assert used <= described, f"tags without a description: {used - described}"
