"""Reading Meta's webhook bodies defensively: any field may be missing or of an unexpected type."""

from __future__ import annotations

import json
import re
from typing import Any

#: what Meta's ids (phone number ids, WhatsApp Business Account ids) look like; anything else names
#: no account
_META_ID = re.compile(r"\d{1,64}")


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


def meta_id(value: Any) -> str | None:
    """``value`` as a Meta id (digits, as Meta sends them), or None when it cannot be one."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text if _META_ID.fullmatch(text) else None


def phone_number_ids(payload: dict[str, Any] | None) -> list[str]:
    """Every well-formed ``metadata.phone_number_id`` of the payload, in order, without repeats."""
    found: dict[str, None] = {}
    for entry in items(payload, "entry"):
        for change in items(entry, "changes"):
            number = meta_id(child(child(change, "value"), "metadata").get("phone_number_id"))
            if number:
                found[number] = None
    return list(found)


def waba_ids(payload: dict[str, Any] | None) -> list[str]:
    """Every well-formed WhatsApp Business Account id of the payload (``entry.id``, and
    ``waba_info.waba_id`` of partner events), in order, without repeats."""
    found: dict[str, None] = {}
    for entry in items(payload, "entry"):
        if entry_id := meta_id(entry.get("id")):
            found[entry_id] = None
        for change in items(entry, "changes"):
            if waba_id := meta_id(child(child(change, "value"), "waba_info").get("waba_id")):
                found[waba_id] = None
    return list(found)
