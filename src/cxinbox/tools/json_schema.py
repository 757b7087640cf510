"""A tool's ``parameters``: a JSON Schema checked when saved, and the arguments checked against it
when the tool is called.

The schema must describe an object (what an LLM's function call passes). References may only point
inside the schema itself (``#/…``): a remote ``$ref`` would make the server fetch a URL of the
tenant's choosing while validating.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs

MAX_SCHEMA_BYTES = 32 * 1024
MAX_ERRORS = 20
_REFERENCE_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")


def schema_problems(schema: Any) -> list[str]:
    """Why ``schema`` cannot be a tool's parameters (empty when it can)."""
    if not isinstance(schema, dict):
        return ["must be a JSON Schema object"]
    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        return [f"must be at most {MAX_SCHEMA_BYTES} bytes"]
    if schema.get("type") != "object":
        return ['must have "type": "object"']
    remote = [ref for ref in _references(schema) if not ref.startswith("#")]
    if remote:
        return [f"references outside the schema are not allowed: {remote[0][:100]}"]
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return ['"properties" must be an object']
    try:
        jsonschema_rs.meta.validate(schema)
        jsonschema_rs.validator_for(schema)
    except (jsonschema_rs.ValidationError, ValueError) as exc:
        return [str(exc).splitlines()[0]]
    return []


def argument_problems(schema: dict[str, Any], arguments: Any) -> list[dict[str, str]]:
    """Each way ``arguments`` fails ``schema``, as ``{field, message}`` (empty when valid)."""
    validator = jsonschema_rs.validator_for(schema)
    problems = []
    for error in validator.iter_errors(arguments):
        where = ".".join(str(step) for step in error.instance_path)
        problems.append({"field": f"params.{where}" if where else "params", "message": error.message})
        if len(problems) == MAX_ERRORS:
            break
    return problems


def parameter_names(schema: dict[str, Any]) -> set[str]:
    properties = schema.get("properties")
    return set(properties) if isinstance(properties, dict) else set()


def _references(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _REFERENCE_KEYS and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_references(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_references(item))
    return found
