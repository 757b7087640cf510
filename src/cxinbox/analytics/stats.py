"""Exact summaries of a list of durations."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from datetime import datetime

from cxinbox.analytics.schemas import Durations


def seconds_between(pairs: Iterable[tuple[datetime, datetime]]) -> list[float]:
    return [(end - start).total_seconds() for start, end in pairs]


def summarize(values: list[float]) -> Durations:
    if not values:
        return Durations(count=0, p50_seconds=None, p90_seconds=None, mean_seconds=None)
    ordered = sorted(values)
    return Durations(
        count=len(ordered),
        p50_seconds=statistics.median(ordered),
        p90_seconds=ordered[math.ceil(0.9 * len(ordered)) - 1],
        mean_seconds=round(statistics.fmean(ordered), 3),
    )


def ratio(part: int | float, whole: int | float) -> float | None:
    return None if not whole else round(part / whole, 4)
