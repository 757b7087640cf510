"""A minimal valid-looking request body for an operation, built from its OpenAPI request schema.

The tenancy sweep sends these so that the answer about a foreign id is not masked by a 400: every
required field gets a plausible value (an enum's first member, a schema example, a string of the
minimum length), and an id field (``userId``, ``tagId``...) gets the caller's own id of that kind.
A body with no required field gets its first generatable property, so an update changes something.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

#: a field's name -> the kind of the caller's own id that fills it
ID_FIELDS = {"userId": "member", "tagId": "tag", "teamId": "team", "connectionId": "connection"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Schemas:
    def __init__(self, document: Mapping[str, Any], own_ids: Mapping[str, str]) -> None:
        self.components: Mapping[str, Any] = document.get("components", {}).get("schemas", {})
        self.own_ids = own_ids

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        options = [s for s in schema.get("anyOf", schema.get("oneOf", [])) if s.get("type") != "null"]
        return self.resolve(options[0]) if options else schema

    def value(self, name: str, schema: Mapping[str, Any]) -> Any:
        schema = self.resolve(schema)
        if name in ID_FIELDS:
            return self.own_ids[ID_FIELDS[name]]
        if "enum" in schema:
            return schema["enum"][0]
        if "const" in schema:
            return schema["const"]
        if schema.get("examples"):
            return schema["examples"][0]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self.object(schema)
        if kind == "array":
            item = self.value(name, schema.get("items", {}))
            return [item] * schema.get("minItems", 0)
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            return schema.get("minimum", 1)
        return self.string(schema)

    @staticmethod
    def string(schema: Mapping[str, Any]) -> str:
        if schema.get("format") == "email":
            return "sweep@example.com"
        if schema.get("format") == "date-time":
            return (datetime.now(UTC) + timedelta(days=1)).isoformat()
        return "s" * max(schema.get("minLength", 1), 1)

    def object(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        names = list(schema.get("required", [])) or list(properties)[:1]
        return {name: self.value(name, properties[name]) for name in names}


def request_body(
    document: Mapping[str, Any], operation: Mapping[str, Any], own_ids: Mapping[str, str]
) -> dict[str, Any]:
    """The ``httpx`` keyword arguments carrying a body for ``operation`` (none when it takes none)."""
    content: Mapping[str, Any] = operation.get("requestBody", {}).get("content", {})
    schemas = Schemas(document, own_ids)
    if "application/json" in content:
        return {"json": schemas.value("body", content["application/json"]["schema"])}
    if "multipart/form-data" in content:
        schema = schemas.resolve(content["multipart/form-data"]["schema"])
        files = {name: ("sweep.pdf", PDF, "application/pdf") for name in schema.get("required", [])}
        return {"files": files}
    return {}
