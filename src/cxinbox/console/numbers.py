"""The WhatsApp numbers page (admins and supervisors): the connected numbers with their state and
quality, a live health check with Meta, and the numbers' alerts (acknowledge one, or all), through
the same services as ``/whatsapp-accounts``, ``/whatsapp-accounts/{id}/health`` and
``/whatsapp-accounts/alerts``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from cxinbox.console.admin import again, error_text, notice, perform, refused
from cxinbox.console.places import NUMBERS
from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.errors import AppError
from cxinbox.whatsapp import numbers
from cxinbox.whatsapp.alerts import service as alerts
from cxinbox.whatsapp.alerts.events import alert_out
from cxinbox.whatsapp.alerts.repository import AlertFilters
from cxinbox.whatsapp.repository import WhatsAppAccountRepository
from cxinbox.whatsapp.router import account_out

router = APIRouter(include_in_schema=False)
DONE = ("acknowledged",)
#: the latest alerts the page lists
SHOWN = 50


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    tenant = visit.member.tenant
    async with visit.runtime.read_session() as session:
        accounts = await WhatsAppAccountRepository(session, tenant).list_live()
        found, _ = await alerts.list_alerts(session, tenant, AlertFilters(), None, SHOWN)
        shown = [account_out(a) for a in accounts]
    context.setdefault("notice", notice(visit, DONE))
    return visit.page(
        "console/numbers.html", status_code, accounts=shown, alerts=[alert_out(a) for a in found], **context
    )


@router.get(NUMBERS.path, response_class=HTMLResponse)
async def numbers_page(visit: MemberDep) -> Response:
    return refused(visit, NUMBERS) or await _page(visit)


@router.post(NUMBERS.path + "/{id}/health", response_class=HTMLResponse)
async def check_health(id: str, visit: MemberDep, form: FormDep) -> Response:
    """Ask Meta now: the page shows the answer beside the number."""
    if no := refused(visit, NUMBERS):
        return no
    principal, runtime = visit.member, visit.runtime
    try:
        health = await in_unit_of_work(runtime, lambda s: numbers.health(s, principal, runtime, id))
    except AppError as exc:
        return await _page(visit, exc.status_code, error=error_text(visit, exc))
    return await _page(visit, health=health)


@router.post(NUMBERS.path + "/alerts/{id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, NUMBERS):
        return no
    principal = visit.member
    return await perform(
        visit,
        lambda s: alerts.acknowledge(s, principal, id),
        NUMBERS.path,
        "acknowledged",
        again(_page, visit),
    )


@router.post(NUMBERS.path + "/alerts/acknowledge-all", response_class=HTMLResponse)
async def acknowledge_all(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, NUMBERS):
        return no
    principal = visit.member
    return await perform(
        visit,
        lambda s: alerts.acknowledge_all(s, principal),
        NUMBERS.path,
        "acknowledged",
        again(_page, visit),
    )
