"""What ``/plan/usage`` and the public plan list answer."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.errors import NotFound
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.identity import Organization
from cxinbox.plans.limits import PLAN_LIMITS, LimitUsage, usage_report
from cxinbox.plans.schemas import LimitUsageOut, PlanOut, PlanUsage


def usage_out(usage: LimitUsage) -> LimitUsageOut:
    remaining = None if usage.limit is None else max(0, usage.limit - usage.used)
    return LimitUsageOut(used=usage.used, limit=usage.limit, remaining=remaining)


async def organization_usage(session: AsyncSession, org: Organization) -> PlanUsage:
    report = await usage_report(session, org)
    return PlanUsage(plan=org.plan, limits={u.name: usage_out(u) for u in report})


async def usage_of_tenant(session: AsyncSession, tenant: TenantContext) -> PlanUsage:
    org = await session.get(Organization, tenant.organization_id)
    if org is None:
        raise NotFound("Organization not found")
    return await organization_usage(session, org)


def public_plans() -> list[PlanOut]:
    return [PlanOut(plan=plan, limits=dict(limits)) for plan, limits in PLAN_LIMITS.items()]
