"""Filling a request template with values, escaped by where each value lands.

A template is written by an admin; the values (``{{params.x}}`` from the LLM or an agent, the
contact's name, a phone number) are hostile. Whatever a value holds, it stays one value:

- **in the URL path** it is one percent-encoded segment piece (``/``, ``?``, ``#``, ``%`` encoded;
  a value of only dots is encoded too, so ``..`` cannot climb out of the path);
- **in the query string** of the template's path it is one encoded query value (``&``, ``=``,
  ``#`` encoded); in the ``query`` map it is a value httpx encodes;
- **in a header** it is refused when it holds a line break or a control character;
- **in the JSON body** a string that is exactly one placeholder becomes the value itself (a number
  stays a number), and a placeholder inside a longer string is text inside that string: the body is
  built as data and serialized once, so no value can add a field or close a string.

An unknown name fills as empty (``null`` in the body); templates are checked when saved
(``placeholders``), so that happens only for optional parameters left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\}\}")
_HEADER_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

Values = Mapping[str, Any]


class TemplateError(ValueError):
    """A value cannot be placed where the template puts it."""


def placeholders(template: Any) -> Iterator[str]:
    """Every name a template (a string, or JSON data holding strings) uses."""
    if isinstance(template, str):
        yield from (m.group(1) for m in PLACEHOLDER.finditer(template))
    elif isinstance(template, dict):
        for value in template.values():
            yield from placeholders(value)
    elif isinstance(template, list):
        for item in template:
            yield from placeholders(item)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _path_piece(value: Any) -> str:
    text = _text(value)
    if text and text.strip(".") == "":
        return "%2E" * len(text)
    return quote(text, safe="")


def render_url_path(template: str, values: Values) -> str:
    """The template's path and query string with every value percent-encoded for its place."""
    path, mark, query = template.partition("?")
    rendered = PLACEHOLDER.sub(lambda m: _path_piece(values.get(m.group(1))), path)
    if mark:
        rendered += "?" + PLACEHOLDER.sub(lambda m: quote(_text(values.get(m.group(1))), safe=""), query)
    return rendered


def render_text(template: str, values: Values) -> str:
    return PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1))), template)


def render_header(name: str, template: str, values: Values) -> str:
    value = render_text(template, values)
    if _HEADER_UNSAFE.search(value):
        raise TemplateError(f"the value for header {name} contains a line break or control character")
    return value


def render_json(template: Any, values: Values) -> Any:
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template.strip())
        if whole is not None:
            return values.get(whole.group(1))
        return render_text(template, values)
    if isinstance(template, dict):
        return {key: render_json(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [render_json(item, values) for item in template]
    return template
