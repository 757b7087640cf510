"""Reading Meta's webhook bodies defensively: any field may be missing or of an unexpected type."""

from __future__ import annotations

import json
from typing import Any


def parse_body(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def items(obj: Any, key: str) -> list[dict[str, Any]]:
    """The objects of the list ``obj[key]`` (every array of a webhook may hold several)."""
    found = obj.get(key) if isinstance(obj, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def child(obj: Any, key: str) -> dict[str, Any]:
    """The object ``obj[key]``, or an empty one."""
    found = obj.get(key) if isinstance(obj, dict) else None
    return found if isinstance(found, dict) else {}


def phone_number_ids(payload: dict[str, Any] | None) -> list[str]:
    """Every ``metadata.phone_number_id`` of the payload, in order, without repeats."""
    found: dict[str, None] = {}
    for entry in items(payload, "entry"):
        for change in items(entry, "changes"):
            number = child(child(change, "value"), "metadata").get("phone_number_id")
            if number:
                found[str(number)] = None
    return list(found)


def waba_ids(payload: dict[str, Any] | None) -> list[str]:
    """Every WhatsApp Business Account id of the payload (``entry.id``, and ``waba_info.waba_id`` of
    partner events), in order, without repeats."""
    found: dict[str, None] = {}
    for entry in items(payload, "entry"):
        if entry.get("id"):
            found[str(entry["id"])] = None
        for change in items(entry, "changes"):
            waba_id = child(child(change, "value"), "waba_info").get("waba_id")
            if waba_id:
                found[str(waba_id)] = None
    return list(found)
