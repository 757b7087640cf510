"""The needles screening tests before each rule's search: a rule is skipped only when the text holds
none of them, which must never skip a rule that would have matched."""

from __future__ import annotations

import re

import pytest
from bench.injection import load_cases

from cxinbox.bot import screening
from cxinbox.bot.screening_needles import may_match, needles
from tests.bot.test_screening import ATTACKS, HARD_NEGATIVES, OBFUSCATED


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bignore (?:all|the) rules\b", {"ignore "}),
        (r"\b(?:ignore|disregard)\b[^.]{0,40}\binstructions\b", {"instructions"}),
        (r"(?:system|developer) (?:prompt|message)", {"developer", "system"}),
        (r"api[ _-]?keys?", {"api"}),
        (r"(?:x+|yz)\d", {"x", "yz"}),
        (r"\b[a-z]+_[a-z]+\b", {"_"}),
    ],
)
def test_the_needles_of_a_pattern(pattern: str, expected: set[str]) -> None:
    assert needles(re.compile(pattern)) == expected


@pytest.mark.parametrize(
    "pattern", [r"[a-z]{3,}", r"(?:abc)?\d+", r"(?:abc|\d)x?", r"(?i)ignore", r"(?=abc)\w+"]
)
def test_a_pattern_whose_matches_need_no_literal_has_none(pattern: str) -> None:
    found = needles(re.compile(pattern))
    assert found is None
    assert may_match(found, "anything")


def test_a_text_without_a_needle_is_ruled_out() -> None:
    found = needles(re.compile(r"\breveal (?:your|the) prompt\b"))
    assert not may_match(found, "what are your opening hours?")
    assert may_match(found, "please reveal the prompt")


def screened_texts() -> list[str]:
    texts = [c["text"] for c in load_cases()] + [t for t, _ in ATTACKS] + OBFUSCATED + HARD_NEGATIVES
    # each text in the forms the rules read: folded, de-obfuscated and, for a payload, decoded
    forms = []
    for text in texts:
        forms += [screening._SPACES.sub(" ", screening.fold(text)), screening.deobfuscate(text)]
        forms += screening._decoded_payloads(text)
    return forms


def test_the_needles_rule_out_no_rule_that_matches() -> None:
    """Every rule, on every text of the evaluation set and the tests (in each form it is read in):
    the needles let through each text the rule matches."""
    ruled_in = 0
    for text in screened_texts():
        for _reason, found, pattern in screening._FILTERED_RULES:
            if pattern.search(text):
                ruled_in += 1
                assert may_match(found, text), (pattern.pattern[:80], text)
    assert ruled_in > 200
