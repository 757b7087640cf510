"""How a rule relates to another: the same rule twice, a rule that can never fire, or two rules that
send the same conversation to different teams.

A rule is read as alternatives of condition sets: ``ALL`` is one set (every condition), ``ANY`` is
one set per condition. Conditions are compared as written (case and list order aside), so the
findings are sound, never guessed: ``SHADOWED`` is reported only when every way the rule can match
surely matches the earlier rule too; ``OVERLAP`` unless the two rules' conditions contradict each
other (``equals`` two different values of a field, a condition and its negation, …).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cxinbox.routing.conditions import BOOLEAN_FIELDS, NEGATION, Condition, Field, Operator

ConditionKey = tuple[str, str, object]


class ConflictKind(enum.StrEnum):
    DUPLICATE = "DUPLICATE"
    SHADOWED = "SHADOWED"
    OVERLAP = "OVERLAP"


@dataclass(frozen=True)
class RuleShape:
    team_id: str
    conditions: Sequence[Condition]
    match_all: bool

    def alternatives(self) -> list[list[Condition]]:
        if self.match_all or len(self.conditions) == 1:
            return [list(self.conditions)]
        return [[c] for c in self.conditions]

    def keys(self) -> frozenset[ConditionKey]:
        return frozenset(c.key() for c in self.conditions)

    def same_as(self, other: RuleShape) -> bool:
        single = len(self.conditions) == 1  # ALL or ANY of one condition is the same rule
        return self.keys() == other.keys() and (single or self.match_all == other.match_all)


def conflict(candidate: RuleShape, other: RuleShape, *, other_runs_first: bool) -> ConflictKind | None:
    if candidate.same_as(other):
        return ConflictKind.DUPLICATE
    if other_runs_first and _covers(other, candidate):
        return ConflictKind.SHADOWED
    if candidate.team_id != other.team_id and _can_both_match(candidate, other):
        return ConflictKind.OVERLAP
    return None


def _covers(earlier: RuleShape, rule: RuleShape) -> bool:
    """Every way ``rule`` matches also matches ``earlier``."""
    needed = earlier.keys()
    for alternative in rule.alternatives():
        present = {c.key() for c in alternative}
        if earlier.match_all and not needed <= present:
            return False
        if not earlier.match_all and not needed & present:
            return False
    return True


def _can_both_match(one: RuleShape, two: RuleShape) -> bool:
    return any(_satisfiable([*a, *b]) for a in one.alternatives() for b in two.alternatives())


def _satisfiable(conditions: Iterable[Condition]) -> bool:
    by_field: dict[Field, list[Condition]] = {}
    for condition in conditions:
        by_field.setdefault(condition.field, []).append(condition)
    return all(_field_satisfiable(field, found) for field, found in by_field.items())


def _field_satisfiable(field: Field, conditions: list[Condition]) -> bool:
    keys = {c.key() for c in conditions}
    for condition in conditions:
        if condition.operator in NEGATION:
            positive = (condition.field.value, NEGATION[condition.operator].value, condition.key()[2])
            if positive in keys:
                return False
    if field is Field.TAG:  # many values: different tags do not exclude each other
        return True
    allowed = _allowed_values(field, conditions)
    return allowed is None or bool(allowed)


def _allowed_values(field: Field, conditions: list[Condition]) -> set[str] | None:
    """The values a single-valued field may take under ``conditions``; ``None``: unbounded."""
    allowed: set[str] | None = {"true", "false"} if field in BOOLEAN_FIELDS else None
    excluded: set[str] = set()
    for condition in conditions:
        values = _folded(condition.value)
        if condition.operator in (Operator.EQUALS, Operator.IN):
            allowed = values if allowed is None else allowed & values
        elif condition.operator in (Operator.NOT_EQUALS, Operator.NOT_IN):
            excluded |= values
    return None if allowed is None else allowed - excluded


def _folded(value: str | tuple[str, ...] | bool) -> set[str]:
    if isinstance(value, bool):
        return {str(value).lower()}
    if isinstance(value, str):
        return {value.casefold()}
    return {v.casefold() for v in value}
