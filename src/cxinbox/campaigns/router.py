from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response

from cxinbox.auth.dependencies import AdminDep, ReadSessionDep, RuntimeDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.campaigns import bulk as bulk_actions
from cxinbox.campaigns import creation, estimates, reading
from cxinbox.campaigns import meta_costs as costs
from cxinbox.campaigns.schemas import (
    BulkCampaigns,
    CampaignCreate,
    CampaignCreated,
    CampaignDetailEnvelope,
    CampaignFilter,
    CampaignMetaCost,
    CampaignOut,
    CampaignStats,
    Estimate,
    EstimateRequest,
    GlobalStats,
    MetaCosts,
    Pricing,
)
from cxinbox.core.bulk import BulkResult
from cxinbox.core.pagination import PageParams, page_params
from cxinbox.core.validation import Id
from cxinbox.core.wire import Envelope, PageEnvelope
from cxinbox.models.campaigns import CampaignStatus

router = APIRouter(prefix="/campaigns", tags=["campaigns"], dependencies=[key_scope(Area.CAMPAIGNS)])

_READERS = "Admins and supervisors (403 otherwise)."
_ADMIN = "Admins only (403 otherwise)."
RecipientStatusFilter = Literal["all", "PENDING", "SENT", "DELIVERED", "READ", "FAILED", "UNKNOWN"]
#: the detail's filter: the reference's, plus REPLIED (as the export's)
DetailStatusFilter = Literal["all", "PENDING", "SENT", "DELIVERED", "READ", "FAILED", "UNKNOWN", "REPLIED"]
PageDep = Annotated[PageParams, Depends(page_params)]
_COUNTS = (
    "`counts` are cumulative: `sent` includes the delivered and read, `delivered` the read; "
    "`pending` is not sent yet; `replied` answered after the message reached them. Addition: "
    "`unknown` counts the sends whose outcome stayed unknown after a crash (never sent twice)."
)


@router.get(
    "",
    summary="List all campaigns",
    description="Newest first, optionally by `status`; `page`/`limit` are an addition (page meta). "
    f"{_COUNTS} {_READERS}",
)
async def list_campaigns(
    principal: SupervisorDep,
    session: ReadSessionDep,
    page: PageDep,
    status_: Annotated[
        CampaignStatus | None, Query(alias="status", description="Addition: only campaigns in this status")
    ] = None,
) -> PageEnvelope[CampaignOut]:
    items, total = await reading.listed(session, principal.tenant, CampaignFilter(status=status_), page)
    return PageEnvelope(data=items, meta=page.meta(total))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a campaign (bulk template send)",
    description="Sends an APPROVED template to up to 100,000 recipients, each exactly once: numbers are "
    "normalised and de-duplicated (the first wins, `duplicates` says how many were dropped), invalid "
    "ones skipped and listed in `invalid`. Every recipient's values (its own `variables`, else the "
    "campaign's) are checked against the template before anything is stored (400 naming "
    "`recipients[i].variables…`). The campaign starts at once (RUNNING) or at `scheduledAt` "
    "(SCHEDULED), and sends through the outbox at the number's pace, within its messaging tier; "
    "`waitingReason` says why it waits. With a `budget` it pauses (`BUDGET_REACHED`) before a "
    "send would go over. Past the plan's campaigns per month: 402; a template that is not APPROVED: "
    f"409 `TEMPLATE_NOT_APPROVED`. {_ADMIN}",
)
async def create(
    body: CampaignCreate, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[CampaignCreated]:
    return Envelope(data=await creation.create(session, runtime, principal, body))


@router.get(
    "/stats/global",
    summary="Get aggregated stats across all campaigns",
    description=f"Campaigns by status, recipient counts and rates over every campaign. {_COUNTS} {_READERS}",
)
async def global_stats(principal: SupervisorDep, session: ReadSessionDep) -> Envelope[GlobalStats]:
    return Envelope(data=await reading.global_stats(session, principal.tenant))


@router.get(
    "/meta-costs",
    summary="Get real costs from Meta per template and WABA total (last 90 days)",
    description="Meta's `pricing_analytics` of every WhatsApp account of the organization over the last "
    "90 days, by pricing category and by country (read from the Graph API, cached for an hour); an "
    "account Meta could not answer for shows its `error` and zeros. Meta does not report costs per "
    "template: `templates` lists what campaigns sent with each and its rate-card price. "
    f"{_READERS}",
)
async def meta_costs(
    principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[MetaCosts]:
    return Envelope(data=await costs.organization_costs(session, runtime, principal.tenant))


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


@router.post(
    "/bulk",
    summary="Bulk actions on campaigns (admin only)",
    description="`pause` (RUNNING or SCHEDULED), `resume` (PAUSED; with an optional new `budget`), "
    "`cancel` (not ended yet) or `delete` (not RUNNING) the campaigns chosen by `selection` "
    "(`{mode: ids, ids}` or `{mode: filter, filter: {status}}`). A campaign whose status does not "
    "allow the action is listed in `failed` with `CONFLICT`, another organization's as `NOT_FOUND`. "
    f"{_ADMIN}",
)
async def bulk(body: BulkCampaigns, principal: AdminDep, session: SessionDep) -> Envelope[BulkResult]:
    return Envelope(data=await bulk_actions.run(session, principal.tenant, body))


@router.get(
    "/{id}/meta-cost",
    summary="Get calculated real cost for a campaign based on Meta analytics",
    description="An approximation, beside the rate-card estimate and spending: Meta reports costs per "
    "account, category and day, not per template, so this is what the campaign's account was charged "
    f"for the template's category over the days the campaign ran (cached for an hour). {_READERS}",
)
async def meta_cost(
    id: Id, principal: SupervisorDep, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[CampaignMetaCost]:
    return Envelope(data=await costs.campaign_cost(session, runtime, principal.tenant, id))


@router.get(
    "/{id}",
    summary="Get campaign detail with paginated recipients",
    description=f"The campaign and one page of its recipients (`meta` pages them), in request order, "
    "optionally by `status` (`REPLIED` and `UNKNOWN` are additions). A recipient being queued shows as "
    "PENDING. "
    f"{_COUNTS} {_READERS}",
)
async def detail(
    id: Id,
    principal: SupervisorDep,
    session: ReadSessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    status_: Annotated[DetailStatusFilter, Query(alias="status")] = "all",
) -> CampaignDetailEnvelope:
    return await reading.detail(session, principal.tenant, id, status_, PageParams(page=page, limit=limit))


@router.get(
    "/{id}/export",
    summary="Export campaign recipients as CSV",
    description="`text/csv`, one line per recipient in request order, columns "
    "`phone,name,status,sentAt,deliveredAt,readAt,repliedAt,errorCode,errorMessage` (phones in E.164 "
    "with `+`, times ISO 8601 UTC, empty when not reached; a cell starting with `=`, `+`, `-` or `@` is "
    f"prefixed with `'` so a spreadsheet does not run it). {_READERS}",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export(
    id: Id,
    principal: SupervisorDep,
    session: ReadSessionDep,
    status_: Annotated[RecipientStatusFilter | Literal["REPLIED"], Query(alias="status")] = "all",
) -> Response:
    text = await reading.export_rows(session, principal.tenant, id, status_)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campaign-{id}.csv"'},
    )


@router.get(
    "/{id}/stats",
    summary="Get aggregated recipient stats for a campaign",
    description=f"Counts, delivery, read and reply rates, estimated and spent cost. {_COUNTS} {_READERS}",
)
async def stats(id: Id, principal: SupervisorDep, session: ReadSessionDep) -> Envelope[CampaignStats]:
    return Envelope(data=await reading.stats(session, principal.tenant, id))
