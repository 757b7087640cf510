from __future__ import annotations

from fastapi import APIRouter

from cxinbox.auth.dependencies import MemberDep, SessionDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.wire import Envelope
from cxinbox.plans import service
from cxinbox.plans.schemas import PlanOut, PlanUsage

router = APIRouter(tags=["plans"], dependencies=[key_scope(Area.SETTINGS)])


@router.get(
    "/plan/usage",
    summary="Get current plan usage and limits",
    description="Every limit of the organization's plan (after its per-organization overrides) "
    "against what the organization uses now. Any member of the organization may read it.",
)
async def plan_usage(principal: MemberDep, session: SessionDep) -> Envelope[PlanUsage]:
    return Envelope(data=await service.usage_of_tenant(session, principal.tenant))


@router.get(
    "/config/public/plans",
    summary="List available plans (public, no auth)",
    description="Each plan with its limits; no token needed.",
)
async def public_plans() -> Envelope[list[PlanOut]]:
    return Envelope(data=service.public_plans())
