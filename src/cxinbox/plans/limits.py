"""What each plan allows, and the check every area calls before it creates a limited thing.

Areas register how to count their usage (``register_usage``); ``/plan/usage`` reports every limit
against it, and ``ensure_within_limit`` answers 402 ``PLAN_LIMIT_REACHED`` naming the limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.errors import PlanLimitReached
from cxinbox.models.identity import Organization, Plan

SEATS = "seats"
WHATSAPP_NUMBERS = "whatsappNumbers"
MONTHLY_BOT_REPLIES = "monthlyBotReplies"
KNOWLEDGE_DOCUMENTS = "knowledgeDocuments"
CAMPAIGNS = "campaigns"

UNLIMITED = None

#: limit name -> maximum per plan (``None`` is unlimited)
PLAN_LIMITS: dict[Plan, dict[str, int | None]] = {
    Plan.FREE: {
        SEATS: 2,
        WHATSAPP_NUMBERS: 1,
        MONTHLY_BOT_REPLIES: 500,
        KNOWLEDGE_DOCUMENTS: 10,
        CAMPAIGNS: 2,
    },
    Plan.STARTER: {
        SEATS: 5,
        WHATSAPP_NUMBERS: 2,
        MONTHLY_BOT_REPLIES: 5_000,
        KNOWLEDGE_DOCUMENTS: 50,
        CAMPAIGNS: 20,
    },
    Plan.PROFESSIONAL: {
        SEATS: 20,
        WHATSAPP_NUMBERS: 5,
        MONTHLY_BOT_REPLIES: 50_000,
        KNOWLEDGE_DOCUMENTS: 500,
        CAMPAIGNS: 200,
    },
    Plan.ENTERPRISE: {
        SEATS: UNLIMITED,
        WHATSAPP_NUMBERS: UNLIMITED,
        MONTHLY_BOT_REPLIES: UNLIMITED,
        KNOWLEDGE_DOCUMENTS: UNLIMITED,
        CAMPAIGNS: UNLIMITED,
    },
}
LIMIT_NAMES = tuple(PLAN_LIMITS[Plan.FREE])

UsageCounter = Callable[[AsyncSession, str], Awaitable[int]]
_COUNTERS: dict[str, UsageCounter] = {}


def register_usage(limit: str) -> Callable[[UsageCounter], UsageCounter]:
    """Register how the area that owns ``limit`` counts an organization's current usage."""
    if limit not in LIMIT_NAMES:
        raise ValueError(f"unknown limit {limit!r}")

    def register(counter: UsageCounter) -> UsageCounter:
        _COUNTERS[limit] = counter
        return counter

    return register


def limit_for(org: Organization, limit: str) -> int | None:
    return limit_under(org, org.plan, limit, extra_seats=org.extra_seats)


def limit_under(org: Organization, plan: Plan, limit: str, *, extra_seats: int) -> int | None:
    """``limit`` of ``org`` on ``plan``: its override if it has one, else the plan's; seats bought on
    top of the plan (``extra_seats``) add to a finite seat limit."""
    overrides = org.limit_overrides or {}
    if limit in overrides:
        value = overrides[limit]
        maximum = None if value is None else int(value)
    else:
        maximum = PLAN_LIMITS[plan][limit]
    if limit == SEATS and maximum is not None:
        maximum += extra_seats or 0
    return maximum


async def usage_of(session: AsyncSession, org: Organization, limit: str) -> int:
    counter = _COUNTERS.get(limit)
    return await counter(session, org.id) if counter else 0


@dataclass(frozen=True)
class LimitUsage:
    name: str
    used: int
    limit: int | None


async def usage_report(session: AsyncSession, org: Organization) -> list[LimitUsage]:
    return [
        LimitUsage(name, await usage_of(session, org, name), limit_for(org, name)) for name in LIMIT_NAMES
    ]


async def ensure_within_limit(session: AsyncSession, org: Organization, limit: str, adding: int = 1) -> None:
    """Raise 402 if adding ``adding`` more would exceed the organization's ``limit``."""
    maximum = limit_for(org, limit)
    if maximum is None:
        return
    used = await usage_of(session, org, limit)
    if used + adding > maximum:
        raise PlanLimitReached(
            f"The {org.plan.value} plan allows {maximum} {limit}",
            details={"limit": limit, "max": maximum, "used": used, "plan": org.plan.value},
        )
