"""``X-Hub-Signature-256``: HMAC-SHA256 of the raw body bytes, keyed with the Meta app secret."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(header: str | None, body: bytes, secrets: Iterable[str]) -> bool:
    """True when ``header`` is the signature of ``body`` under one of ``secrets`` (constant time).

    Computed over the bytes as received: Meta escapes non-ASCII, so a re-serialised body never matches.
    """
    if not header or not header.startswith(PREFIX):
        return False
    given = header.strip().lower()
    matched = False
    for secret in secrets:
        # compare against every candidate, so timing does not reveal which one matched
        matched |= hmac.compare_digest(sign(secret, body), given)
    return matched
