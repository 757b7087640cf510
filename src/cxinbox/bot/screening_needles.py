"""Literal strings a regular expression cannot match without: a cheap test run before its search.

``needles(pattern)`` reads the pattern's parse tree (the standard library's own parser) and answers a
set of strings such that every match contains at least one of them, or None when it finds no such
set (a match may be made of character classes only). A text holding none of them cannot match, so
``str.__contains__`` (a C substring search) rules the pattern out before the regular expression
engine, which tries every position of the text, runs. Injection screening runs some fifty patterns
over every customer's text; an everyday message holds few of their words.

Sound by construction: a sequence's needles are those of one of its mandatory parts (a run of
literal characters, a group, a repeat taken at least once), a branch's are the union of its
alternatives' (None if one has none), anything else (classes, anchors, lookarounds, optional parts)
has none. A pattern compiled with ``IGNORECASE`` gets None.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}

Needles = frozenset[str]


def needles(pattern: re.Pattern[str]) -> Needles | None:
    """Strings one of which every match of ``pattern`` contains (None: no such set was found)."""
    if pattern.flags & re.IGNORECASE:
        return None
    return _sequence(list(sre_parse.parse(pattern.pattern, pattern.flags)))


def may_match(found: Needles | None, text: str) -> bool:
    """False only when ``text`` holds none of ``found``: the pattern cannot match it."""
    if found is None:
        return True
    # a loop, not any() over a generator (a call per step): this runs some fifty times a text
    for needle in found:  # noqa: SIM110
        if needle in text:
            return True
    return False


def _sequence(items: list[tuple[Any, Any]]) -> Needles | None:
    """The best of the needles of the sequence's mandatory parts: the set whose shortest string is
    the longest (the rarest in a text), then the smallest."""
    candidates: list[Needles] = []
    run: list[str] = []
    for op, av in items:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        if run:
            candidates.append(frozenset({"".join(run)}))
            run = []
        found = _item(op, av)
        if found is not None:
            candidates.append(found)
    if run:
        candidates.append(frozenset({"".join(run)}))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(map(len, c)), -len(c)))


def _item(op: Any, av: Any) -> Needles | None:
    if op is sre.SUBPATTERN:
        _group, add_flags, _del_flags, inner = av
        return None if add_flags & re.IGNORECASE else _sequence(list(inner))
    if op is sre.BRANCH:
        found: set[str] = set()
        for alternative in av[1]:
            branch = _sequence(list(alternative))
            if branch is None:
                return None
            found |= branch
        return frozenset(found)
    if op in _REPEATS:
        least, _most, inner = av
        return _sequence(list(inner)) if least >= 1 else None
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _sequence(list(av))
    return None
