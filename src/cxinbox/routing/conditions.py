"""Rule conditions: what a condition may say, and whether a conversation's facts satisfy it.

A condition is ``{field, operator, value}``. Every field is read as a list of strings (a single
value, ``[]`` when missing, a conversation's tag names): a positive operator holds when one of them
satisfies it, its negation (``notEquals``, ``notIn``, ``notContains``) when none does. Text is
compared ignoring case. ``regex`` searches case-insensitively, is compiled when the rule is saved
(at most ``MAX_REGEX`` characters) and runs on at most ``MAX_TEXT`` characters with a time limit
(``REGEX_SECONDS``): a pattern that would backtrack for ever on a customer's text does not match.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
import structlog

log = structlog.get_logger(__name__)

MAX_CONDITIONS = 20
MAX_REGEX = 200
MAX_VALUE = 500
MAX_LIST = 100
#: the part of a text that conditions read (a WhatsApp text is at most 4096 characters)
MAX_TEXT = 4096
REGEX_SECONDS = 0.05


class Field(enum.StrEnum):
    MESSAGE_TEXT = "messageText"
    CATEGORY = "category"
    CONTACT_CATEGORY = "contactCategory"
    WHATSAPP_ACCOUNT_ID = "whatsappAccountId"
    TAG = "tag"
    ORIGIN = "origin"
    CONTACT_PHONE = "contactPhone"
    WITHIN_BUSINESS_HOURS = "withinBusinessHours"


class Operator(enum.StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "notEquals"
    IN = "in"
    NOT_IN = "notIn"
    CONTAINS = "contains"
    NOT_CONTAINS = "notContains"
    STARTS_WITH = "startsWith"
    REGEX = "regex"


#: each negative operator is "not" its positive one
NEGATION = {
    Operator.NOT_EQUALS: Operator.EQUALS,
    Operator.NOT_IN: Operator.IN,
    Operator.NOT_CONTAINS: Operator.CONTAINS,
}
LIST_OPERATORS = frozenset({Operator.IN, Operator.NOT_IN})
BOOLEAN_FIELDS = frozenset({Field.WITHIN_BUSINESS_HOURS})
BOOLEAN_OPERATORS = frozenset({Operator.EQUALS, Operator.NOT_EQUALS})


class InvalidCondition(ValueError):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"condition {index}: {message}")
        self.index = index
        self.message = message


@dataclass(frozen=True)
class Condition:
    field: Field
    operator: Operator
    #: a string, a tuple of strings (``in``/``notIn``), or a bool (``withinBusinessHours``)
    value: str | tuple[str, ...] | bool

    def wire(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"field": self.field.value, "operator": self.operator.value, "value": value}

    def key(self) -> tuple[str, str, Any]:
        """Equal for conditions that say the same thing (case and list order aside)."""
        value = self.value
        if isinstance(value, str):
            value = value if self.operator is Operator.REGEX else value.casefold()
        elif isinstance(value, tuple):
            value = tuple(sorted({v.casefold() for v in value}))
        return (self.field.value, self.operator.value, value)


def parse_conditions(raw: Any) -> list[Condition]:
    """Checked conditions; ``InvalidCondition`` names the first bad one by index."""
    if not isinstance(raw, list):
        raise InvalidCondition(0, "conditions must be a list")
    if not 1 <= len(raw) <= MAX_CONDITIONS:
        raise InvalidCondition(0, f"a rule has 1 to {MAX_CONDITIONS} conditions")
    return [parse_condition(index, item) for index, item in enumerate(raw)]


def parse_condition(index: int, raw: Any) -> Condition:
    if not isinstance(raw, Mapping):
        raise InvalidCondition(index, "must be an object {field, operator, value}")
    field = _member(index, Field, raw.get("field"), "field")
    operator = _member(index, Operator, raw.get("operator"), "operator")
    value = raw.get("value")
    if field in BOOLEAN_FIELDS:
        if operator not in BOOLEAN_OPERATORS:
            raise InvalidCondition(index, f"{field.value} takes only equals or notEquals")
        if not isinstance(value, bool):
            raise InvalidCondition(index, f"{field.value} takes a boolean value")
        return Condition(field, operator, value)
    if operator in LIST_OPERATORS:
        return Condition(field, operator, _string_list(index, value))
    text = _string(index, value)
    if operator is Operator.REGEX:
        _compile_checked(index, text)
    return Condition(field, operator, text)


def _member(index: int, kind: type[enum.StrEnum], value: Any, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidCondition(index, f"unknown {what} {value!r} (one of: {allowed})") from None


def _string(index: int, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidCondition(index, "value must be a non-empty string")
    if len(value) > MAX_VALUE:
        raise InvalidCondition(index, f"value is longer than {MAX_VALUE} characters")
    return value


def _string_list(index: int, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
        raise InvalidCondition(index, f"value must be a list of 1 to {MAX_LIST} strings")
    return tuple(_string(index, item) for item in value)


def _compile_checked(index: int, pattern: str) -> None:
    if len(pattern) > MAX_REGEX:
        raise InvalidCondition(index, f"a regex is at most {MAX_REGEX} characters")
    try:
        _compiled(pattern)
    except regex.error as exc:
        raise InvalidCondition(index, f"invalid regex: {exc}") from None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.IGNORECASE)


#: what conditions read about a conversation: each field's values (see the module docstring)
Facts = Mapping[Field, Sequence[str]]


def holds(condition: Condition, facts: Facts) -> bool:
    values = facts.get(condition.field, ())
    if condition.operator in NEGATION:
        return not _any(NEGATION[condition.operator], condition, values)
    return _any(condition.operator, condition, values)


def _any(operator: Operator, condition: Condition, values: Sequence[str]) -> bool:
    expected = condition.value
    if isinstance(expected, bool):
        return str(expected).lower() in values
    if operator is Operator.REGEX:
        assert isinstance(expected, str)
        return any(_searches(expected, value) for value in values)
    folded = [value[:MAX_TEXT].casefold() for value in values]
    if operator is Operator.IN:
        options = {v.casefold() for v in expected}
        return any(value in options for value in folded)
    assert isinstance(expected, str)
    target = expected.casefold()
    if operator is Operator.EQUALS:
        return target in folded
    if operator is Operator.CONTAINS:
        return any(target in value for value in folded)
    return any(value.startswith(target) for value in folded)  # STARTS_WITH


def _searches(pattern: str, text: str) -> bool:
    try:
        return _compiled(pattern).search(text[:MAX_TEXT], timeout=REGEX_SECONDS) is not None
    except TimeoutError:
        log.warning("routing_regex_timeout", pattern=pattern)
        return False


def matches(conditions: Sequence[Condition], match_all: bool, facts: Facts) -> bool:
    results = (holds(c, facts) for c in conditions)
    return all(results) if match_all else any(results)
