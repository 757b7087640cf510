from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from cxinbox.auth.dependencies import AdminDep, ReadSessionDep, RuntimeDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.campaigns import estimates
from cxinbox.campaigns.schemas import Estimate, EstimateRequest, Pricing
from cxinbox.core.errors import NotImplementedYet
from cxinbox.core.validation import Id
from cxinbox.core.wire import Envelope

router = APIRouter(prefix="/campaigns", tags=["campaigns"], dependencies=[key_scope(Area.CAMPAIGNS)])

_READERS = "Admins and supervisors (403 otherwise)."
_ADMIN = "Admins only (403 otherwise)."
_NOT_YET = "Not available yet: answers 501 NOT_IMPLEMENTED."
RecipientStatusFilter = Literal["all", "PENDING", "SENT", "DELIVERED", "READ", "FAILED"]


def _not_yet(what: str) -> NotImplementedYet:
    return NotImplementedYet(f"{what} is not available yet")


@router.get("", summary="List all campaigns", description=f"{_NOT_YET} {_READERS}")
async def list_campaigns(principal: SupervisorDep) -> None:
    raise _not_yet("Listing campaigns")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a campaign (bulk template send)",
    description=f"{_NOT_YET} {_ADMIN}",
)
async def create(principal: AdminDep) -> None:
    raise _not_yet("Creating a campaign")


@router.get(
    "/stats/global", summary="Get aggregated stats across all campaigns", description=f"{_NOT_YET} {_READERS}"
)
async def global_stats(principal: SupervisorDep) -> None:
    raise _not_yet("Campaign statistics")


@router.get(
    "/meta-costs",
    summary="Get real costs from Meta per template and WABA total (last 90 days)",
    description=f"{_NOT_YET} {_READERS}",
)
async def meta_costs(principal: SupervisorDep) -> None:
    raise _not_yet("Meta's pricing analytics")


@router.post(
    "/estimate",
    summary="Estimate campaign cost before sending",
    description="By the rate card (`GET /campaigns/pricing`), per country of each normalised, "
    "de-duplicated number; invalid numbers are skipped and listed in `invalid`. Meta charges a "
    "utility template only outside the customer-service window, so recipients who wrote to the "
    "template's number in the last 24 hours count as `free` for a utility template; marketing and "
    f"authentication templates are always charged. Volume tiers are not applied. {_READERS}",
)
async def estimate(
    body: EstimateRequest, principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[Estimate]:
    return Envelope(data=await estimates.estimate(session, runtime, principal, body))


@router.get(
    "/pricing",
    summary="Get current WhatsApp pricing rates",
    description="The rate card in use (the shipped one, or the file the `rate_card_path` setting "
    f"names): USD per delivered template, per market and category, with its effective date. {_READERS}",
)
async def pricing(principal: SupervisorDep, runtime: RuntimeDep) -> Envelope[Pricing]:
    return Envelope(data=estimates.pricing(runtime))


@router.post("/bulk", summary="Bulk actions on campaigns (admin only)", description=f"{_NOT_YET} {_ADMIN}")
async def bulk(principal: AdminDep) -> None:
    raise _not_yet("Bulk actions on campaigns")


@router.get(
    "/{id}/meta-cost",
    summary="Get calculated real cost for a campaign based on Meta analytics",
    description=f"{_NOT_YET} {_READERS}",
)
async def meta_cost(id: Id, principal: SupervisorDep) -> None:
    raise _not_yet("Meta's pricing analytics")


@router.get(
    "/{id}", summary="Get campaign detail with paginated recipients", description=f"{_NOT_YET} {_READERS}"
)
async def detail(
    id: Id,
    principal: SupervisorDep,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    status_: Annotated[RecipientStatusFilter, Query(alias="status")] = "all",
) -> None:
    raise _not_yet("Campaign detail")


@router.get("/{id}/export", summary="Export campaign recipients as CSV", description=f"{_NOT_YET} {_READERS}")
async def export(
    id: Id,
    principal: SupervisorDep,
    status_: Annotated[RecipientStatusFilter | Literal["REPLIED"], Query(alias="status")] = "all",
) -> None:
    raise _not_yet("Campaign export")


@router.get(
    "/{id}/stats",
    summary="Get aggregated recipient stats for a campaign",
    description=f"{_NOT_YET} {_READERS}",
)
async def stats(id: Id, principal: SupervisorDep) -> None:
    raise _not_yet("Campaign statistics")
