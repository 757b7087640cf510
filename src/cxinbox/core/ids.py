"""Opaque, time-ordered identifiers (UUIDv7 layout) so that ids sort roughly by creation."""

import os
import time

#: random hex digits per id: 3 after the version, 1 that picks the variant's digit, 3 + 12 after it
_RANDOM_HEX = 20
_VARIANT = "89ab89ab89ab89ab"


def new_id() -> str:
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """``count`` ids at once (one read of the random source: a campaign names 100,000 rows)."""
    ms = f"{(time.time_ns() // 1_000_000) & ((1 << 48) - 1):012x}"
    head = f"{ms[:8]}-{ms[8:]}-7"
    noise = os.urandom(_RANDOM_HEX // 2 * count).hex()
    return [
        f"{head}{r[:3]}-{_VARIANT[int(r[3], 16)]}{r[4:7]}-{r[7:19]}"
        for r in (noise[i : i + _RANDOM_HEX] for i in range(0, len(noise), _RANDOM_HEX))
    ]
