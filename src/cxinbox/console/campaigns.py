"""The campaigns pages: the list with each campaign's status and progress and the totals of every
campaign; a campaign's page with its statistics, live progress (the event stream's
``campaign.updated``) and a page of recipients; and for admins creating a campaign (an APPROVED
template, recipients from a CSV file, values, a schedule and a budget) and pausing, resuming or
cancelling one. Admins and supervisors read them, as ``GET /campaigns``; every action goes through
the services of ``POST /campaigns`` and ``POST /campaigns/bulk``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from cxinbox.campaigns import bulk, creation, reading
from cxinbox.campaigns.schemas import BulkCampaigns, CampaignCreate, CampaignFilter
from cxinbox.console.admin import error_text, notice, refused, text
from cxinbox.console.campaign_csv import CsvRefused, recipients_from
from cxinbox.console.places import ADMIN, CAMPAIGNS
from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.errors import AppError, NotFound
from cxinbox.core.pagination import PageParams
from cxinbox.models.templates import TemplateStatus
from cxinbox.templates import service as templates
from cxinbox.templates.schemas import TemplateFilter

router = APIRouter(include_in_schema=False)
#: what only an admin may do on the pages
EDIT = replace(CAMPAIGNS, roles=ADMIN)
DONE = ("campaign_created", "campaign_paused", "campaign_resumed", "campaign_cancelled")
PAGE_SIZE = 25
#: the pages' actions on one campaign (as ``POST /campaigns/bulk`` names them) and their notices
_DONE_OF = {"pause": "campaign_paused", "resume": "campaign_resumed", "cancel": "campaign_cancelled"}


def _missing(visit: Visit) -> Response:
    return visit.page("console/message.html", 404, title=visit.t("campaigns"), text=visit.t("not_found_here"))


def _page_number(request: Request) -> int:
    value = request.query_params.get("page", "1")
    return min(int(value), 10_000) if value.isdigit() and int(value) > 0 else 1


async def _list(visit: Visit, status_code: int = 200, **context: object) -> Response:
    page = PageParams(page=_page_number(visit.request), limit=PAGE_SIZE)
    editor = visit.member.has_role(*EDIT.roles)
    async with visit.runtime.read_session() as session:
        listed, total = await reading.listed(session, visit.member.tenant, CampaignFilter(), page)
        totals = await reading.global_stats(session, visit.member.tenant)
        offered = (
            await templates.list_templates(
                session, visit.member, TemplateFilter(status=TemplateStatus.APPROVED)
            )
            if editor
            else []
        )
    context.setdefault("notice", notice(visit, DONE))
    return visit.page(
        "console/campaigns.html",
        status_code,
        campaigns=listed,
        totals=totals,
        page=page.page,
        more=page.offset + len(listed) < total,
        templates=offered,
        editor=editor,
        **context,
    )


@router.get(CAMPAIGNS.path, response_class=HTMLResponse)
async def campaigns_page(visit: MemberDep) -> Response:
    return refused(visit, CAMPAIGNS) or await _list(visit)


def _scheduled(value: str) -> str | None:
    """The form's ``datetime-local`` (UTC, as the field says) as an ISO time with its zone."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    except ValueError:
        return "not a time"  # refused by the model, as the API refuses it


def _shared_values(form_value: str) -> dict[str, object] | None:
    values = [line.strip() for line in form_value.splitlines() if line.strip()]
    return {"body": values} if values else None


@router.post(CAMPAIGNS.path, response_class=HTMLResponse)
async def create(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, EDIT):
        return no
    submitted = {
        "name": text(form, "name", 201),
        "templateId": text(form, "template_id", 64),
        "variables": _shared_values(text(form, "values", 20_000)),
        "scheduledAt": _scheduled(text(form, "scheduled_at", 40)),
        "budget": text(form, "budget", 20) or None,
    }
    try:
        body = CampaignCreate.model_validate(
            {**submitted, "recipients": await recipients_from(form.get("recipients"))}
        )
    except (ValidationError, CsvRefused):
        return await _list(visit, 400, error=visit.t("campaign_invalid"), submitted=submitted)
    principal, runtime = visit.member, visit.runtime
    try:
        created = await in_unit_of_work(runtime, lambda s: creation.create(s, runtime, principal, body))
    except AppError as exc:
        return await _list(visit, exc.status_code, error=error_text(visit, exc), submitted=submitted)
    return visit.redirect(f"{CAMPAIGNS.path}/{created.id}?done=campaign_created")


async def _campaign(visit: Visit, id: str, status_code: int = 200, **context: object) -> Response:
    page = PageParams(page=_page_number(visit.request), limit=PAGE_SIZE)
    tenant = visit.member.tenant
    async with visit.runtime.read_session() as session:
        try:
            shown = await reading.detail(session, tenant, id, "all", page)
            figures = await reading.stats(session, tenant, id)
        except NotFound:
            return _missing(visit)
    context.setdefault("notice", notice(visit, DONE))
    return visit.page(
        "console/campaign.html",
        status_code,
        campaign=shown.data,
        stats=figures,
        page=page.page,
        more=shown.meta.page < shown.meta.total_pages,
        editor=visit.member.has_role(*EDIT.roles),
        **context,
    )


@router.get(CAMPAIGNS.path + "/{id}", response_class=HTMLResponse)
async def campaign_page(id: str, visit: MemberDep) -> Response:
    return refused(visit, CAMPAIGNS) or await _campaign(visit, id)


@router.get(CAMPAIGNS.path + "/{id}/progress", response_class=HTMLResponse)
async def progress(id: str, visit: MemberDep) -> Response:
    """The campaign's figures, as the event stream refreshes them while it runs."""
    if no := refused(visit, CAMPAIGNS):
        return no
    async with visit.runtime.read_session() as session:
        try:
            shown = await reading.detail(session, visit.member.tenant, id, "all", PageParams(page=1, limit=1))
            figures = await reading.stats(session, visit.member.tenant, id)
        except NotFound:
            return _missing(visit)
    editor = visit.member.has_role(*EDIT.roles)
    return visit.page("console/_campaign_progress.html", campaign=shown.data, stats=figures, editor=editor)


@router.post(CAMPAIGNS.path + "/{id}/{action}", response_class=HTMLResponse)
async def change(id: str, action: str, visit: MemberDep, form: FormDep) -> Response:
    """Pause, resume or cancel the campaign (as ``POST /campaigns/bulk`` with its id)."""
    if no := refused(visit, EDIT):
        return no
    if action not in _DONE_OF:
        return _missing(visit)
    try:
        body = BulkCampaigns.model_validate(
            {
                "action": action,
                "selection": {"mode": "ids", "ids": [id]},
                "budget": text(form, "budget", 20) or None,
            }
        )
    except ValidationError:
        return await _campaign(visit, id, 400, error=visit.t("invalid_form"))
    tenant = visit.member.tenant
    result = await in_unit_of_work(visit.runtime, lambda s: bulk.run(s, tenant, body))
    if result.failed:
        failure = result.failed[0]
        if failure.code == "NOT_FOUND":
            return await _campaign(visit, id)  # answers the 404 page
        return await _campaign(visit, id, 409, error=visit.t("action_failed", message=failure.message))
    return visit.redirect(f"{CAMPAIGNS.path}/{id}?done={_DONE_OF[action]}")
