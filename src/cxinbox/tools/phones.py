"""Phone numbers as the lookup matches them: 10 digits, or with a country code (``+52 55 1234 5678``,
``5215512345678``). Matching is on the last 10 digits, so a Mexican mobile's WhatsApp form (``521``
and the 10 digits) and its plain form (``52`` and the 10 digits) are the same customer."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FORMATTING = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"[0-9]{10,13}")
NATIONAL_DIGITS = 10
#: a Mexican mobile's prefix in WhatsApp ids: the country code and the old mobile ``1``
MEXICAN_MOBILE_PREFIX = "521"


@dataclass(frozen=True)
class PhoneNumber:
    national: str
    country_code: str

    @property
    def full(self) -> str:
        return self.country_code + self.national


def normalise(raw: str, default_country_code: str) -> PhoneNumber:
    """Raises ``ValueError`` for anything but 10 digits, or a 1-3 digit country code and 10 digits
    (after ``+``, ``00``, spaces, dashes, dots and parentheses are dropped)."""
    digits = _FORMATTING.sub("", raw.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    if not _DIGITS.fullmatch(digits):
        raise ValueError("must be 10 digits, or a full number with its country code")
    prefix = digits[:-NATIONAL_DIGITS]
    if not prefix:
        country_code = default_country_code
    elif prefix == MEXICAN_MOBILE_PREFIX:
        country_code = "52"
    elif len(prefix) <= 3 and not prefix.startswith("0"):
        country_code = prefix
    else:
        raise ValueError("has too many digits before the last 10 for a country code")
    return PhoneNumber(national=digits[-NATIONAL_DIGITS:], country_code=country_code)
