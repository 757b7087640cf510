"""The OpenAPI document tells the errors as the API answers them.

FastAPI documents a 422 ``HTTPValidationError`` on every operation that reads input; the API answers
400 in the contract's envelope instead (``core.http``). Here every operation's error responses are
rewritten into that envelope, each with the codes it can carry: 400 ``VALIDATION_ERROR`` where the
operation reads parameters or a body, 401 and 403 where it needs credentials (a role or an API key's
scope can refuse), 404 where a path names a resource, and whatever the route declared with
``AppError.responses(...)``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from cxinbox.core.errors import STATUS_CODES
from cxinbox.core.wire import ApiModel, examples_of

ERROR_SCHEMA = "Error"
ERROR_CODES = "x-error-codes"
_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = {"get", "put", "post", "delete", "patch"}

ERROR_COMPONENT: dict[str, Any] = {
    "type": "object",
    "title": ERROR_SCHEMA,
    "description": "Every error answer: a stable `code`, a human `message`, and `details` where the "
    "error has them (for `VALIDATION_ERROR`, a list of `{field, message}`).",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["VALIDATION_ERROR"]},
                "message": {"type": "string", "examples": ["Invalid request: name"]},
                "details": {
                    "description": "For VALIDATION_ERROR: the bad fields",
                    "examples": [[{"field": "name", "message": "Field required"}]],
                },
            },
        }
    },
}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the rewritten document (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = restore_examples(document_errors(document))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def restore_examples(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI writes the document without null values, which takes the nulls out of the examples
    too (an answer's ``"closedAt": null`` would vanish): put each model's examples back as given."""
    models: dict[str, type[ApiModel]] = {}
    pending: list[type[ApiModel]] = [ApiModel]
    while pending:
        for subclass in pending.pop().__subclasses__():
            models.setdefault(subclass.__name__, subclass)
            pending.append(subclass)
    for schema in document.get("components", {}).get("schemas", {}).values():
        model = models.get(schema.get("title", ""))
        if "examples" in schema and model is not None:
            schema["examples"] = examples_of(model)
    return document


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in _METHODS:
                _document_operation(operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FRAMEWORK_SCHEMAS:
        schemas.pop(name, None)
    schemas[ERROR_SCHEMA] = ERROR_COMPONENT
    return document


def _document_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    codes: dict[int, list[str]] = {
        int(status): list(response.get(ERROR_CODES, []))
        for status, response in responses.items()
        if status.isdigit() and int(status) >= 400
    }
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        codes.setdefault(400, []).append("VALIDATION_ERROR")
    if operation.get("security"):
        codes.setdefault(401, []).append("UNAUTHORIZED")
        codes.setdefault(403, []).append("FORBIDDEN")
    if any(p.get("in") == "path" for p in parameters):
        codes.setdefault(404, []).append("NOT_FOUND")
    for status, status_codes in sorted(codes.items()):
        unique = list(dict.fromkeys(status_codes or [STATUS_CODES.get(status, "ERROR")]))
        phrase = HTTPStatus(status).phrase
        declared = responses.get(str(status), {}).get("description")  # a route's own words stay
        if declared in (None, phrase, "Additional Response"):
            declared = f"{phrase}: " + ", ".join(f"`{code}`" for code in unique)
        responses[str(status)] = {
            "description": declared,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}},
            ERROR_CODES: unique,
        }
