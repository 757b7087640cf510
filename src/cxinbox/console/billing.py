"""The billing page (admins only, as ``/billing``): the plan and its subscription as Stripe last
confirmed it, every limit's usage against the plan, the plans to move to, and the buttons that
open Stripe: a checkout for a plan (``POST /billing/checkout-session``'s service) and the customer
portal (``POST /billing/portal-session``'s), where the invoices, the payment method and the
cancellation are.

Stripe's pages are on another origin, and the console's ``form-action 'self'`` would stop a form's
redirect there: the action answers a page with the link to follow (htmx follows it at once).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from cxinbox.billing import service
from cxinbox.billing.errors import BillingNotConfigured
from cxinbox.billing.schemas import CheckoutRequest
from cxinbox.billing.state import ENDED
from cxinbox.console.admin import error_text, refused, text
from cxinbox.console.places import BILLING
from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.errors import AppError
from cxinbox.models.billing import SubscriptionStatus
from cxinbox.models.identity import Plan
from cxinbox.plans import service as plans

router = APIRouter(include_in_schema=False)


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    runtime, tenant = visit.runtime, visit.member.tenant
    async with runtime.read_session() as session:
        usage = await plans.usage_of_tenant(session, tenant)
        try:
            subscription = await service.subscription(runtime, session, tenant)
        except BillingNotConfigured:
            subscription = None
    checkout = visit.request.query_params.get("checkout")
    return visit.page(
        "console/billing.html",
        status_code,
        usage=usage,
        subscription=subscription,
        subscribed=subscription is not None and subscription.status not in {*ENDED, SubscriptionStatus.NONE},
        plans=[p for p in plans.public_plans() if p.plan is not Plan.FREE],
        notice=visit.t(f"billing_checkout_{checkout}") if checkout in ("success", "cancelled") else None,
        **context,
    )


@router.get(BILLING.path, response_class=HTMLResponse)
async def billing_page(visit: MemberDep) -> Response:
    return refused(visit, BILLING) or await _page(visit)


def _to_stripe(visit: Visit, url: str) -> Response:
    """The page that sends the person on to Stripe (htmx goes at once)."""
    if visit.htmx:
        return visit.finish(Response(status_code=204, headers={"HX-Redirect": url}))
    return visit.page("console/billing_continue.html", url=url)


@router.post(BILLING.path + "/checkout", response_class=HTMLResponse)
async def checkout(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, BILLING):
        return no
    back = visit.runtime.settings.public_url.rstrip("/") + BILLING.path
    try:
        body = CheckoutRequest.model_validate(
            {
                "plan": text(form, "plan", 20),
                "interval": text(form, "interval", 10) or "month",
                "successUrl": f"{back}?checkout=success",
                "cancelUrl": f"{back}?checkout=cancelled",
            }
        )
    except ValidationError:
        return await _page(visit, 400, error=visit.t("invalid_form"))
    runtime, tenant, user_id = visit.runtime, visit.member.tenant, visit.member.require_user()
    try:
        created = await in_unit_of_work(
            runtime, lambda s: service.checkout(runtime, s, tenant, user_id, body)
        )
    except AppError as exc:
        return await _page(visit, exc.status_code, error=error_text(visit, exc))
    return _to_stripe(visit, created.url)


@router.post(BILLING.path + "/portal", response_class=HTMLResponse)
async def portal(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, BILLING):
        return no
    runtime, tenant = visit.runtime, visit.member.tenant
    back = runtime.settings.public_url.rstrip("/") + BILLING.path
    try:
        created = await in_unit_of_work(runtime, lambda s: service.portal(runtime, s, tenant, back))
    except AppError as exc:
        return await _page(visit, exc.status_code, error=error_text(visit, exc))
    return _to_stripe(visit, created.url)
