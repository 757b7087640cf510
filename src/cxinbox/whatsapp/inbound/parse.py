"""One inbound message object of a webhook -> the fields of a ``Message``.

Every type Meta sends has a home: known types keep their content (text, media, payload); a type this
code does not know is stored as ``unsupported`` with its raw content, so nothing is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cxinbox.adapters.whatsapp import is_media_id
from cxinbox.core.clock import utcnow
from cxinbox.models.inbox import MediaState, MessageType, SenderType

MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
PREVIEW_LENGTH = 200
_LAST_MICROSECOND = timedelta(seconds=1) - timedelta(microseconds=1)
INVALID_MEDIA_ID = {"code": None, "subcode": None, "message": "The webhook named no valid media id"}


@dataclass
class ParsedMessage:
    type: MessageType
    sender_type: SenderType = SenderType.CUSTOMER
    text: str | None = None
    media: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    reply_to_wa_message_id: str | None = None
    referral: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def preview(self) -> str:
        label = self.text or (self.media or {}).get("caption")
        return (label or f"[{self.type.value}]")[:PREVIEW_LENGTH]


def provider_time(raw: Any) -> datetime:
    """Meta's timestamps are epoch seconds as strings."""
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def arrival_order(provider_at: datetime, received_at: datetime) -> datetime:
    """Where an inbound message sorts in its conversation. Meta's times have whole seconds and ours
    microseconds, so an answer stamped 12:00:00 to our reply sent at 12:00:00.400 would sort before
    the reply. The customer wrote it within [t, t + 1 s) and no later than we received it: the
    latest such moment keeps the order in which the conversation was seen."""
    return max(provider_at, min(received_at, provider_at + _LAST_MICROSECOND))


def _object(value: Any) -> dict[str, Any]:
    """A payload member that should be an object; anything else reads as empty."""
    return value if isinstance(value, dict) else {}


def parse_message(msg: dict[str, Any]) -> ParsedMessage:
    kind = str(msg.get("type") or "unsupported")
    content = _object(msg.get(kind))
    parsed = _PARSERS.get(kind, _unsupported)(kind, content, msg)
    parsed.context, parsed.reply_to_wa_message_id = _context(msg.get("context"))
    if isinstance(msg.get("referral"), dict):
        parsed.referral = msg["referral"]
    if parsed.error is None:
        parsed.error = first_error(msg.get("errors"))
    return parsed


def first_error(errors: Any) -> dict[str, Any] | None:
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None
    error = errors[0]
    details = (
        error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    )
    return {
        "code": error.get("code"),
        "message": error.get("message") or error.get("title"),
        "title": error.get("title"),
        "details": details,
    }


def _context(context: Any) -> tuple[dict[str, Any] | None, str | None]:
    if not isinstance(context, dict) or not context:
        return None, None
    return (
        {
            "messageId": context.get("id"),
            "from": context.get("from"),
            "forwarded": bool(context.get("forwarded")),
            "frequentlyForwarded": bool(context.get("frequently_forwarded")),
            "referredProduct": context.get("referred_product"),
        },
        context.get("id"),
    )


def _text(_kind: str, content: dict[str, Any], _msg: dict[str, Any]) -> ParsedMessage:
    return ParsedMessage(MessageType.TEXT, text=content.get("body"))


def _media(kind: str, content: dict[str, Any], _msg: dict[str, Any]) -> ParsedMessage:
    media_id = content.get("id")
    media = {
        "providerMediaId": media_id,
        "mimeType": content.get("mime_type"),
        "providerSha256": content.get("sha256"),
        "filename": content.get("filename"),
        "caption": content.get("caption"),
        "state": MediaState.PENDING.value,
        "attempts": 0,
    }
    for flag in ("voice", "animated"):
        if flag in content:
            media[flag] = bool(content[flag])
    if not is_media_id(media_id):  # it would become part of a Graph URL: never fetched
        media |= {"providerMediaId": None, "state": MediaState.FAILED.value, "lastError": INVALID_MEDIA_ID}
    return ParsedMessage(MessageType(kind), text=content.get("caption"), media=media)


def _location(_kind: str, content: dict[str, Any], _msg: dict[str, Any]) -> ParsedMessage:
    keys = ("latitude", "longitude", "name", "address", "url")
    return ParsedMessage(
        MessageType.LOCATION,
        text=content.get("name") or content.get("address"),
        payload={"location": {k: content.get(k) for k in keys if k in content}},
    )


def _contacts(_kind: str, _content: dict[str, Any], msg: dict[str, Any]) -> ParsedMessage:
    shared = [c for c in msg.get("contacts") or [] if isinstance(c, dict)]
    names = [str((c.get("name") or {}).get("formatted_name") or "") for c in shared]
    return ParsedMessage(
        MessageType.CONTACTS, text=", ".join(n for n in names if n) or None, payload={"contacts": shared}
    )


def _interactive(_kind: str, content: dict[str, Any], _msg: dict[str, Any]) -> ParsedMessage:
    reply_type = str(content.get("type") or "")
    reply = _object(content.get(reply_type))
    payload: dict[str, Any] = {"interactiveType": reply_type}
    if reply_type == "nfm_reply":
        payload |= {"name": reply.get("name"), "response": _json_or_raw(reply.get("response_json"))}
        return ParsedMessage(MessageType.INTERACTIVE, text=reply.get("body"), payload=payload)
    payload |= {"id": reply.get("id"), "title": reply.get("title"), "description": reply.get("description")}
    return ParsedMessage(MessageType.INTERACTIVE, text=reply.get("title"), payload=payload)


def _button(_kind: str, content: dict[str, Any], _msg: dict[str, Any]) -> ParsedMessage:
    return ParsedMessage(
        MessageType.BUTTON, text=content.get("text"), payload={"payload": content.get("payload")}
    )


def _order(_kind: str, content: dict[str, Any], _msg: dict[str, Any]) -> ParsedMessage:
    return ParsedMessage(MessageType.ORDER, text=content.get("text") or None, payload={"order": content})


def _system(_kind: str, content: dict[str, Any], msg: dict[str, Any]) -> ParsedMessage:
    payload = {"system": content}
    if isinstance(msg.get("identity"), dict):
        payload["identity"] = msg["identity"]
    return ParsedMessage(
        MessageType.SYSTEM, sender_type=SenderType.SYSTEM, text=content.get("body"), payload=payload
    )


def _unsupported(kind: str, content: dict[str, Any], _msg: dict[str, Any]) -> ParsedMessage:
    """Types Meta cannot show, and types this code does not know: kept with their raw content."""
    payload: dict[str, Any] = {"originalType": kind}
    if content:
        payload["content"] = content
    return ParsedMessage(MessageType.UNSUPPORTED, payload=payload)


def _json_or_raw(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


_PARSERS = {
    "text": _text,
    **{kind: _media for kind in MEDIA_TYPES},
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "order": _order,
    "system": _system,
    "unsupported": _unsupported,
}
