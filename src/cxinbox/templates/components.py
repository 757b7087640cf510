"""Meta's template component format: checked before a template goes to Meta, read for its
variables, and filled when a template is sent.

Components are ``[{type: HEADER|BODY|FOOTER|BUTTONS, …}]``: one BODY (text up to 1,024
characters), at most one HEADER (``format`` TEXT up to 60 characters with at most one variable, or
IMAGE, VIDEO, DOCUMENT, LOCATION), FOOTER (60 characters, no variable) and BUTTONS (up to 10).
Variables are positional, ``{{1}}``, ``{{2}}``, … in order from 1 (named variables are not taken
here yet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cxinbox.core.errors import ValidationFailed

BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
BUTTON_TEXT_MAX = 25
MAX_BUTTONS = 10
HEADER_FORMATS = frozenset({"TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"})
MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT"})
BUTTON_TYPES = frozenset(
    {"QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW", "CATALOG", "MPM", "VOICE_CALL"}
)
_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

#: what one sent value may hold (Meta refuses the send otherwise: 132000, 132005, 132018)
VALUE_MAX = {"header": HEADER_TEXT_MAX, "body": BODY_MAX, "buttons": 2000}
#: Meta refuses newlines, tabs and more than four spaces in a row in header and body values (132018)
_FORBIDDEN_SPACING = re.compile(r"[\n\r\t]| {4,}")


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed.field(field, message)


def normalized(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Types and formats in Meta's upper case (what a person may write in lower case)."""
    out = []
    for component in components:
        item = dict(component)
        for key in ("type", "format"):
            if isinstance(item.get(key), str):
                item[key] = item[key].strip().upper()
        out.append(item)
    return out


def variables_in(text: str, field: str) -> int:
    """How many positional variables ``text`` has; they must be ``{{1}}``…``{{n}}`` in order."""
    found = _VARIABLE.findall(text)
    numbers = []
    for name in found:
        if not name.isdigit():
            raise _fail(field, f"variable {{{{{name}}}}} must be a number: {{{{1}}}}, {{{{2}}}}, …")
        numbers.append(int(name))
    if sorted(set(numbers)) != list(range(1, len(set(numbers)) + 1)):
        raise _fail(field, "variables must be numbered from {{1}} without gaps")
    return len(set(numbers))


def check(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The components, normalized, if Meta could take them; a 400 naming the part otherwise."""
    components = normalized(components)
    by_type: dict[str, dict[str, Any]] = {}
    for index, component in enumerate(components):
        kind = component.get("type")
        where = f"components[{index}]"
        if kind not in {"HEADER", "BODY", "FOOTER", "BUTTONS"}:
            raise _fail(f"{where}.type", "must be HEADER, BODY, FOOTER or BUTTONS")
        if kind in by_type:
            raise _fail(f"{where}.type", f"only one {kind} component is allowed")
        by_type[kind] = component
        {"HEADER": _header, "BODY": _body, "FOOTER": _footer, "BUTTONS": _buttons}[kind](component, where)
    if "BODY" not in by_type:
        raise _fail("components", "a BODY component is required")
    return components


def _text(component: dict[str, Any], where: str, limit: int) -> str:
    text = component.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _fail(f"{where}.text", "is required")
    if len(text) > limit:
        raise _fail(f"{where}.text", f"at most {limit} characters")
    return text


def _body(component: dict[str, Any], where: str) -> None:
    text = _text(component, where, BODY_MAX)
    count = variables_in(text, f"{where}.text")
    stripped = text.strip()
    if count and (_VARIABLE.match(stripped) or re.search(r"\}\}$", stripped)):
        raise _fail(f"{where}.text", "a variable cannot start or end the body")
    _examples(component, where, "body_text", count)


def _header(component: dict[str, Any], where: str) -> None:
    header_format = component.get("format")
    if header_format not in HEADER_FORMATS:
        raise _fail(f"{where}.format", "must be TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION")
    if header_format == "TEXT":
        count = variables_in(_text(component, where, HEADER_TEXT_MAX), f"{where}.text")
        if count > 1:
            raise _fail(f"{where}.text", "a header has at most one variable")
        _examples(component, where, "header_text", count)
    elif header_format in MEDIA_FORMATS:
        example = component.get("example")
        handles = example.get("header_handle") if isinstance(example, dict) else None
        if not isinstance(handles, list) or not handles or not all(isinstance(h, str) and h for h in handles):
            raise _fail(
                f"{where}.example.header_handle", "a media header needs a sample (upload-media's handle)"
            )


def _footer(component: dict[str, Any], where: str) -> None:
    if variables_in(_text(component, where, FOOTER_MAX), f"{where}.text"):
        raise _fail(f"{where}.text", "a footer takes no variable")


def _buttons(component: dict[str, Any], where: str) -> None:
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise _fail(f"{where}.buttons", f"from 1 to {MAX_BUTTONS} buttons")
    for index, button in enumerate(buttons):
        at = f"{where}.buttons[{index}]"
        if not isinstance(button, dict) or str(button.get("type", "")).upper() not in BUTTON_TYPES:
            raise _fail(f"{at}.type", f"must be one of {', '.join(sorted(BUTTON_TYPES))}")
        text = button.get("text")
        if button["type"].upper() not in {"OTP", "COPY_CODE", "CATALOG", "MPM"} and (
            not isinstance(text, str) or not text.strip() or len(text) > BUTTON_TEXT_MAX
        ):
            raise _fail(f"{at}.text", f"is required, at most {BUTTON_TEXT_MAX} characters")
        url = button.get("url")
        if isinstance(url, str) and variables_in(url, f"{at}.url") > 1:
            raise _fail(f"{at}.url", "a URL has at most one variable, at its end")


def _examples(component: dict[str, Any], where: str, key: str, count: int) -> None:
    """Meta asks a sample value for every variable (``example.body_text: [[…]]``)."""
    if not count:
        return
    example = component.get("example")
    samples = example.get(key) if isinstance(example, dict) else None
    if key == "body_text" and isinstance(samples, list) and samples and isinstance(samples[0], list):
        samples = samples[0]
    if (
        not isinstance(samples, list)
        or len(samples) != count
        or not all(isinstance(s, str) and s for s in samples)
    ):
        raise _fail(f"{where}.example.{key}", f"give {count} sample value(s), one per variable")


# --- sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slots:
    """How many values a send must give: the header's (0 or 1), the body's, and one per button
    whose URL has a variable (by the button's index)."""

    header: int
    body: int
    buttons: tuple[int, ...]
    media_header: str | None


def slots_of(components: list[dict[str, Any]]) -> Slots:
    header = body = 0
    media_header = None
    buttons: list[int] = []
    for component in components:
        kind = component.get("type")
        raw = component.get("text")
        text = raw if isinstance(raw, str) else ""
        if kind == "HEADER":
            if component.get("format") in MEDIA_FORMATS:
                media_header = str(component["format"])
            header = len(set(_VARIABLE.findall(text)))
        elif kind == "BODY":
            body = len(set(_VARIABLE.findall(text)))
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                url = button.get("url") if isinstance(button, dict) else None
                if isinstance(url, str) and _VARIABLE.search(url):
                    buttons.append(index)
    return Slots(header, body, tuple(buttons), media_header)


def check_values(slots: Slots, header: str | None, body: list[str], buttons: list[str]) -> None:
    """The values a send gives, against what the template asks (before Graph is called, so a
    wrong count never becomes Meta's 132000)."""
    given = {"header": [header] if header is not None else [], "body": body, "buttons": buttons}
    expected = {"header": slots.header, "body": slots.body, "buttons": len(slots.buttons)}
    for part, values in given.items():
        if len(values) != expected[part]:
            raise _fail(
                f"variables.{part}", f"the template takes {expected[part]} value(s), {len(values)} given"
            )
        for index, value in enumerate(values):
            field = f"variables.{part}[{index}]"
            if not value.strip():
                raise _fail(field, "must not be empty")
            if len(value) > VALUE_MAX[part]:
                raise _fail(field, f"at most {VALUE_MAX[part]} characters")
            if part != "buttons" and _FORBIDDEN_SPACING.search(value):
                raise _fail(field, "no newlines, tabs or more than three spaces in a row (Meta refuses them)")
            if part == "buttons" and any(c.isspace() for c in value):
                raise _fail(field, "a URL suffix has no spaces")


def fill(text: str, values: list[str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[int(name) - 1] if name.isdigit() and 0 < int(name) <= len(values) else match.group(0)

    return _VARIABLE.sub(value, text)


def rendered_text(components: list[dict[str, Any]], header: str | None, body: list[str]) -> str:
    """What the customer reads: header, body and footer with their values, one paragraph each."""
    parts = []
    for component in components:
        text = component.get("text")
        if not isinstance(text, str):
            continue
        if component.get("type") == "HEADER":
            parts.append(fill(text, [header] if header is not None else []))
        elif component.get("type") == "BODY":
            parts.append(fill(text, body))
        elif component.get("type") == "FOOTER":
            parts.append(text)
    return "\n\n".join(parts)
