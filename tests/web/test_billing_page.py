"""The billing page (admins only): the plan, usage against its limits, checkout of a plan and the
customer portal at the fake Stripe; the plan moves when Stripe's webhook confirms the payment."""

from __future__ import annotations

import re

from cxinbox.models.identity import Role
from tests.billing.helpers import delivered, subscribe
from tests.web.helpers import HTMX, browser, signed_in


async def test_the_admin_subscribes_through_checkout_and_opens_the_portal(
    app, client, runtime, factory, stripe
):
    org = await factory.org()
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        page = await site.get("/billing")
        assert page.status_code == 200 and "FREE" in page.text and "No subscription" in page.text
        assert re.search(
            r"<td>Agents \(seats\)</td>\s*<td><progress[^>]*></progress> 1</td>\s*<td>2</td>", page.text
        )
        r = await site.post("/billing/checkout", data={"csrf": csrf, "plan": "STARTER", "interval": "year"})
        assert r.status_code == 200 and "Continue to Stripe" in r.text
        assert re.search(r'href="https://checkout\.stripe\.com/[^"]+"', r.text)
        _, _, params, _ = next(
            q
            for q in stripe.requests
            if q[1] == "/v1/checkout/sessions" and q[2].get("client_reference_id") == org.id
        )
        assert params["line_items"][0]["price"] == stripe.price_by_key("cxinbox_starter_year")["id"]
        assert params["success_url"].endswith("/billing?checkout=success")
        paid = stripe.complete_checkout(_session_of(stripe, org.id))
        await delivered(client, runtime, paid)
        page = await site.get("/billing?checkout=success")
        assert "STARTER" in page.text and "Active" in page.text and "Stripe confirms the payment" in page.text
        assert 'action="/billing/checkout"' not in page.text  # changes go through the portal now
        r = await site.post("/billing/portal", data={"csrf": csrf}, headers=HTMX)
        assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("https://")
    async with browser(app, language="es") as site:
        await signed_in(site, org.admin)
        assert "Abrir el portal de facturación" in (await site.get("/billing")).text


def _session_of(stripe, org_id: str) -> str:
    return next(s["id"] for s in stripe.sessions.values() if s.get("client_reference_id") == org_id)


async def test_bad_plans_roles_and_no_customer_yet(app, client, runtime, factory, stripe):
    org = await factory.org()
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        r = await site.post("/billing/portal", data={"csrf": csrf})
        assert r.status_code == 409 and "no Stripe customer yet" in r.text
        for plan in ("FREE", "GOLD", ""):
            r = await site.post("/billing/checkout", data={"csrf": csrf, "plan": plan})
            assert r.status_code == 400, plan
        r = await site.post("/billing/checkout", data={"plan": "STARTER"})
        assert r.status_code == 403
    await subscribe(client, runtime, stripe, org)
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        r = await site.post("/billing/checkout", data={"csrf": csrf, "plan": "PROFESSIONAL"})
        assert r.status_code == 409 and "customer portal" in r.text
    for role in (Role.SUPERVISOR, Role.AGENT):
        member = await factory.member(org.id, role)
        async with browser(app) as site:
            csrf = await signed_in(site, member)
            r = await site.get("/billing")
            assert r.status_code == 403 and "STARTER" not in r.text
            for path in ("/billing/checkout", "/billing/portal"):
                r = await site.post(path, data={"csrf": csrf, "plan": "STARTER"})
                assert r.status_code == 403, path
