"""The plan-feature matrix: what moving an organization from its plan to another changes.

The features a plan gives are its limits (``PLAN_LIMITS``), so one table answers both "what does a
plan include" and "what is gained and lost by changing it". A change compares the organization's
limits now (overrides and seats bought included) with its limits on the other plan, against what
it uses now.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.models.identity import Organization, Plan
from cxinbox.plans.limits import LIMIT_NAMES, limit_for, limit_under, usage_of


class Change(enum.StrEnum):
    GAINED = "GAINED"
    LOST = "LOST"
    SAME = "SAME"


@dataclass(frozen=True)
class LimitChange:
    name: str
    current: int | None
    new: int | None
    used: int

    @property
    def change(self) -> Change:
        if self.current == self.new:
            return Change.SAME
        if self.current is None or (self.new is not None and self.new < self.current):
            return Change.LOST
        return Change.GAINED

    @property
    def over_limit(self) -> int:
        """How much of what the organization has is beyond the new limit (kept, but nothing more of
        it can be added until usage is back under it)."""
        return 0 if self.new is None else max(0, self.used - self.new)


async def plan_change(
    session: AsyncSession, org: Organization, plan: Plan, *, extra_seats: int
) -> list[LimitChange]:
    """Every limit of ``org`` now and on ``plan`` (with ``extra_seats`` bought on top of it)."""
    return [
        LimitChange(
            name=name,
            current=limit_for(org, name),
            new=limit_under(org, plan, name, extra_seats=extra_seats),
            used=await usage_of(session, org, name),
        )
        for name in LIMIT_NAMES
    ]
