"""Summaries of durations, and ratios."""

from __future__ import annotations

from cxinbox.analytics.figures import Ranked
from cxinbox.analytics.schemas import Durations

_MICROS = 10**6


def durations(ranked: Ranked | None) -> Durations:
    """The summary of ``definitions.DURATIONS``: the median is the mean of the two middle values
    (the middle one for an odd count), taken as ``statistics.median`` takes it."""
    if ranked is None:
        return Durations(count=0, p50_seconds=None, p90_seconds=None, mean_seconds=None)
    return Durations(
        count=ranked.count,
        p50_seconds=(ranked.low / _MICROS + ranked.high / _MICROS) / 2,
        p90_seconds=ranked.p90 / _MICROS,
        mean_seconds=round(ranked.total / (ranked.count * _MICROS), 3),
    )


def ratio(part: int | float, whole: int | float) -> float | None:
    return None if not whole else round(part / whole, 4)
