"""The one validation of what a request carries, shared by every route: strings, numbers, datetimes,
ids, cursors, and the query string, path and headers.

A value that a database or the runtime cannot take must answer 400 ``VALIDATION_ERROR`` naming the
field, never reach a query and fail there (a NUL byte makes PostgreSQL refuse a statement, an
integer past 64 bits overflows a bound parameter, a datetime near year 9999 overflows when moved to
UTC). What is checked, and where:

- request bodies: every field of every ``RequestModel`` (``core/wire.py``), nested models and
  JSON objects included, goes through ``check_value``: no control characters in text, integers in
  64 bits, finite floats, datetimes in ``[MIN_DATETIME, MAX_DATETIME]`` and turned into UTC;
- the query string, path parameters and headers of every route: ``check_request_parts``, an
  application-wide dependency (path parameters named ``id`` or ``…Id`` must also look like an id);
- typed fields and parameters: ``Text``, ``Id``, ``Position``, ``MAX_PAGE``; cursors:
  ``decode_json_cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from cxinbox.core.errors import ValidationFailed

#: C0 control characters and DEL, except tab, line feed and carriage return
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: also refused in headers, query strings and path segments (one line each)
_LINE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: the same, searched in a header's raw bytes (its latin-1 text has the same code points)
_LINE_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
ID_PATTERN = r"^[A-Za-z0-9._:+-]{1,64}$"
_ID = re.compile(ID_PATTERN)

MAX_INT64 = 2**63 - 1
MIN_DATETIME = datetime(1900, 1, 1, tzinfo=UTC)
MAX_DATETIME = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
#: a page number past this is refused (its offset must stay a 64-bit integer for any limit)
MAX_PAGE = 1_000_000
MAX_CURSOR_LENGTH = 512
MAX_PATH_PARAMETER_LENGTH = 2048


class InvalidValue(ValueError):
    """A value ``check_value`` refuses; ``where`` is its position inside the field (or empty)."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(f"{where} {message}" if where else message)


def check_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (such as NUL)")
    return value


def check_integer(value: int) -> int:
    if not -MAX_INT64 <= value <= MAX_INT64:
        raise ValueError("is out of range")
    return value


def check_datetime(value: datetime) -> datetime:
    """``value`` in UTC (a naive one is UTC by convention), within the supported range."""
    try:
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range") from exc
    if not MIN_DATETIME <= utc <= MAX_DATETIME:
        raise ValueError(f"must be between {MIN_DATETIME.year} and {MAX_DATETIME.year}")
    return utc


def check_value(value: Any, where: str = "") -> Any:
    """``value`` checked all the way down (lists, JSON objects and their keys, nested models);
    datetimes come back in UTC. Raises ``InvalidValue`` naming the position inside the value."""
    try:
        if isinstance(value, str):
            return check_text(value)
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return check_integer(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        if isinstance(value, datetime):
            return check_datetime(value)
    except ValueError as exc:
        raise InvalidValue(str(exc), where) from None
    if isinstance(value, BaseModel):
        if getattr(type(value), "checked_when_validated", False):
            return value  # its own validators checked it (a request body's nested model)
        for name, item in value.__dict__.items():
            checked = check_value(item, f"{where}.{name}" if where else name)
            if checked is not item:
                object.__setattr__(value, name, checked)
        return value
    if isinstance(value, list | tuple):
        return type(value)(check_value(item, f"{where}[{i}]") for i, item in enumerate(value))
    if isinstance(value, set | frozenset):
        return type(value)(check_value(item, where) for item in value)
    if isinstance(value, dict):
        for key in value:
            check_value(key, where)
        return {
            key: check_value(item, f"{where}.{key}" if where else str(key)) for key, item in value.items()
        }
    return value


#: text without control characters (tab, line feed and carriage return allowed)
Text = Annotated[str, AfterValidator(check_text)]
#: an id: what ``core.ids.new_id`` makes, and the provider's numeric ids
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
#: a position in an append-only sequence (an event id)
Position = Annotated[int, Field(ge=0, le=MAX_INT64)]


_PHONE_NOISE = re.compile(r"[ ().-]")
_PHONE = re.compile(r"\+?[1-9][0-9]{7,14}")


def wa_id_of(phone: str) -> str | None:
    """An international number as WhatsApp names it (digits with the country code: ``+55 11 9999-0000``
    and ``0055119999 0000`` are ``55119999 0000`` without the space), or None when it is not one."""
    number = _PHONE_NOISE.sub("", phone.strip())
    if number.startswith("00"):
        number = number[2:]
    if not _PHONE.fullmatch(number):
        return None
    return number.lstrip("+")


def parse_position(raw: str, field: str) -> int:
    """A ``Position`` given as text (a header): digits only, in range."""
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_INT64:
        raise ValidationFailed.field(field, f"must be a whole number between 0 and {MAX_INT64}")
    return int(raw)


def decode_json_cursor(cursor: str) -> Any:
    """The JSON behind an opaque cursor (url-safe base64 of JSON), size-capped before it is decoded
    so that a crafted cursor cannot nest deep enough to exhaust the parser."""
    invalid = ValidationFailed.field("cursor", "is not a valid cursor")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
        return json.loads(raw)
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise invalid from None


async def check_request_parts(request: Request) -> None:
    """Application-wide dependency: the query string, the path parameters and the headers carry no
    control characters, and path ids look like ids."""
    scope = request.scope
    query = request.url.query if scope.get("query_string") else ""  # the URL is built only for one
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _LINE_CONTROL.search(name) or _LINE_CONTROL.search(value):
            raise ValidationFailed.field(_printable(name), "must not contain control characters")
    for name, value in scope.get("path_params", {}).items():
        if not isinstance(value, str):
            continue
        if name == "id" or name.endswith("Id"):
            if not _ID.fullmatch(value):
                raise ValidationFailed.field(name, "is not a valid id")
        elif len(value) > MAX_PATH_PARAMETER_LENGTH or _LINE_CONTROL.search(value):
            raise ValidationFailed.field(name, "is not valid")
    for raw_name, raw_value in scope["headers"]:
        if _LINE_CONTROL_BYTES.search(raw_value):
            raise ValidationFailed.field(raw_name.decode("latin-1"), "must not contain control characters")


def _printable(name: str) -> str:
    return _LINE_CONTROL.sub("?", name)[:100]
