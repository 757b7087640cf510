"""Meta's ``pricing_analytics`` field of a WhatsApp Business Account, as the fake Graph API answers
it: ``GET /{waba_id}?fields=currency,pricing_analytics.start(S).end(E).granularity(DAILY)
.dimensions(["PRICING_CATEGORY",…])`` → ``{"currency", "pricing_analytics": {"data": [{"data_points":
[{start, end, volume, cost, <dimension fields>}]}]}, "id"}``. Points are summed per day and per the
dimensions asked (``pricing_category``, ``pricing_type``, ``country``, ``phone_number``)."""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

_FIELD = re.compile(
    r"pricing_analytics\.start\((\d+)\)\.end\((\d+)\)\.granularity\((\w+)\)(?:\.dimensions\((.*)\))?"
)
_DIMENSION_FIELDS = {
    "PRICING_CATEGORY": "pricing_category",
    "PRICING_TYPE": "pricing_type",
    "COUNTRY": "country",
    "PHONE": "phone_number",
}
DAY = 86_400


@dataclass
class PricePoint:
    at: int
    pricing_category: str
    country: str
    volume: int
    cost: float
    pricing_type: str = "REGULAR"
    phone_number: str = "15550100"


@dataclass
class FakePricing:
    points: dict[str, list[PricePoint]] = field(default_factory=lambda: defaultdict(list))
    reads: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def charge(self, waba_id: str, point: PricePoint) -> None:
        with self._lock:
            self.points[waba_id].append(point)

    def answer(self, waba_id: str, fields: str) -> JSONResponse | None:
        match = _FIELD.search(fields)
        if match is None:
            return None
        start, end = int(match.group(1)), int(match.group(2))
        dimensions = json.loads(match.group(4)) if match.group(4) else []
        keys = [_DIMENSION_FIELDS[d] for d in dimensions if d in _DIMENSION_FIELDS]
        sums: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0, 0.0])
        with self._lock:
            self.reads += 1
            for point in self.points.get(waba_id, []):
                if start <= point.at < end:
                    day = point.at - point.at % DAY
                    key = (day, *(getattr(point, k) for k in keys))
                    sums[key][0] += point.volume
                    sums[key][1] += point.cost
        data_points = [
            {
                "start": key[0],
                "end": key[0] + DAY,
                **dict(zip(keys, key[1:], strict=True)),
                "volume": int(v),
                "cost": round(c, 4),
            }
            for key, (v, c) in sorted(sums.items())
        ]
        return JSONResponse(
            {"currency": "USD", "pricing_analytics": {"data": [{"data_points": data_points}]}, "id": waba_id}
        )
