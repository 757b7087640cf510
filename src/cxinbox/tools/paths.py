"""Dot paths with indices into JSON answers: ``data.accounts[0].name``."""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
PATH_PATTERN = r"^[A-Za-z0-9_$-]+(\[\d+\])*(\.[A-Za-z0-9_$-]+(\[\d+\])*)*$"
_VALID = re.compile(PATH_PATTERN)
MISSING = object()


def is_valid_path(path: str) -> bool:
    return bool(_VALID.match(path))


def extract(data: Any, path: str | None) -> Any:
    """The value at ``path`` in ``data`` (all of it when ``path`` is empty), or ``MISSING``."""
    if not path:
        return data
    current = data
    for key, index in _STEP.findall(path):
        if index:
            if not isinstance(current, list) or int(index) >= len(current):
                return MISSING
            current = current[int(index)]
        elif isinstance(current, dict) and key in current:
            current = current[key]
        else:
            return MISSING
    return current
