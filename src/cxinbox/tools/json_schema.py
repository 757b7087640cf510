"""A tool's ``parameters``: a JSON Schema checked when saved, and the arguments checked against it
when the tool is called.

The schema must describe an object (what an LLM's function call passes). References may only point
inside the schema itself (``#/…``) and ``$schema`` may only name a standard draft: either could
make the validator fetch a URL of the tenant's choosing. The validator is built offline as well, so
nothing is ever retrieved.

Calls check their arguments with a validator compiled once per schema and remembered, keyed by the
schema's JSON text (the same text is the same schema: exact, whatever the tool's row says later).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema_rs

MAX_SCHEMA_BYTES = 32 * 1024
MAX_ERRORS = 20
#: compiled validators remembered (the least recently used forgotten first)
VALIDATOR_CACHE_SIZE = 256
_REFERENCE_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
DRAFTS = frozenset(
    {
        "http://json-schema.org/draft-04/schema",
        "http://json-schema.org/draft-06/schema",
        "http://json-schema.org/draft-07/schema",
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    }
)
_REFUSED = (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError)


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
    if "$schema" in schema and str(schema["$schema"]).rstrip("#") not in DRAFTS:
        return ["$schema must name a standard draft (draft-04 to 2020-12)"]
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return ['"properties" must be an object']
    try:
        jsonschema_rs.meta.validate(schema)
        jsonschema_rs.validator_for(schema, offline=True)
    except _REFUSED as exc:
        return [str(exc).splitlines()[0]]
    return []


def argument_problems(schema: dict[str, Any], arguments: Any) -> list[dict[str, str]]:
    """Each way ``arguments`` fails ``schema``, as ``{field, message}`` (empty when valid)."""
    validator = _validator(json.dumps(schema, separators=(",", ":")))
    problems = []
    for error in validator.iter_errors(arguments):
        where = ".".join(str(step) for step in error.instance_path)
        problems.append({"field": f"params.{where}" if where else "params", "message": error.message})
        if len(problems) == MAX_ERRORS:
            break
    return problems


@functools.lru_cache(maxsize=VALIDATOR_CACHE_SIZE)
def _validator(schema_text: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(schema_text), offline=True)


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
