"""Signing in to the console: the form, the cookies, failures, one-time codes, renewal, sign-out."""

from __future__ import annotations

import re

from cxinbox.console.router import ROUTERS
from cxinbox.models.identity import Role, User
from tests.fixtures.factories import PASSWORD
from tests.fixtures.sending import make_thread
from tests.web.helpers import browser, csrf_of, set_cookies, sign_in, signed_in

CODE = re.compile(r"^(\d{6})$", re.M)


async def test_signed_out_root_leads_to_a_sign_in_form(site):
    root = await site.get("/")
    assert (root.status_code, root.headers["location"]) == (303, "/sign-in")
    page = await site.get("/sign-in")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'type="email"' in html and 'type="password"' in html
    assert '<button type="submit">Sign in</button>' in html
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert not re.search(r"<script(?![^>]*\ssrc=\"/static/)", html), "an inline script"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    cookie = set_cookies(root)["cx_csrf"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie


async def test_sign_in_keeps_the_tokens_in_http_only_cookies(site, factory):
    org = await factory.org()
    r = await sign_in(site, org.admin)
    assert (r.status_code, r.headers["location"]) == (303, "/inbox")
    cookies = set_cookies(r)
    for name in ("cx_access", "cx_refresh", "cx_csrf"):
        assert "HttpOnly" in cookies[name] and "SameSite=lax" in cookies[name] and "Path=/" in cookies[name]
    inbox = await site.get("/inbox")
    assert inbox.status_code == 200 and org.admin.user.name in inbox.text
    assert site.cookies["cx_access"] not in inbox.text, "the access token reaches the page"
    # the API never takes the console's cookie for a credential
    api = await site.get("/api/v1/auth/me")
    assert api.status_code == 401


async def test_cookies_are_secure_over_https(app, factory):
    org = await factory.org()
    async with browser(app, scheme="https") as site:
        r = await sign_in(site, org.admin)
        assert r.status_code == 303, r.text
        assert all("Secure" in line for line in set_cookies(r).values())


async def test_a_failed_sign_in_says_so_in_the_visitor_language(site, app, factory):
    org = await factory.org()
    r = await sign_in(site, org.admin, password="not-the-password")
    assert r.status_code == 401
    assert "Wrong email or password." in r.text and f'value="{org.admin.email}"' in r.text
    assert "cx_access" not in set_cookies(r)
    async with browser(app, language="es-MX,es;q=0.9,en;q=0.5") as spanish:
        r = await sign_in(spanish, org.admin, password="not-the-password")
        assert "Correo o contraseña incorrectos." in r.text and '<html lang="es">' in r.text
    bad_email = await site.post("/sign-in", data={"email": "nope", "password": "x", "csrf": csrf_of(r)})
    assert bad_email.status_code in (400, 403)


async def test_a_form_without_its_csrf_token_is_refused(site, app, factory):
    org = await factory.org()
    form = await site.get("/sign-in")
    body = {"email": org.admin.email, "password": PASSWORD}
    refused = await site.post("/sign-in", data=body)
    assert refused.status_code == 403 and "The form expired" in refused.text
    assert "cx_access" not in set_cookies(refused)
    async with browser(app) as other:  # another browser's token does not fit this browser's cookie
        other_token = csrf_of(await other.get("/sign-in"))
    assert (await site.post("/sign-in", data={**body, "csrf": other_token})).status_code == 403
    assert (await site.post("/sign-in", data={**body, "csrf": csrf_of(form)})).status_code == 303


async def test_one_time_code_sign_in(site, factory, smtp):
    org = await factory.org()
    page = await site.get("/sign-in/code")
    sent = await site.post("/sign-in/code/request", data={"email": org.admin.email, "csrf": csrf_of(page)})
    assert sent.status_code == 200 and "6-digit code is on its way" in sent.text
    [mail] = await smtp.wait_for(org.admin.email)
    code = CODE.search(smtp.body(mail)).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    token = csrf_of(sent)
    r = await site.post("/sign-in/code", data={"email": org.admin.email, "code": wrong, "csrf": token})
    assert r.status_code == 400 and "The code is not valid." in r.text
    r = await site.post("/sign-in/code", data={"email": org.admin.email, "code": code, "csrf": token})
    assert (r.status_code, r.headers["location"]) == (303, "/inbox")


async def test_an_expired_access_token_is_renewed_with_the_refresh_cookie(site, factory):
    org = await factory.org()
    await signed_in(site, org.admin)
    first_refresh = site.cookies["cx_refresh"]
    site.cookies.delete("cx_access")
    inbox = await site.get("/inbox")
    assert inbox.status_code == 200 and org.admin.user.name in inbox.text
    assert site.cookies["cx_refresh"] != first_refresh  # rotated, as /auth/refresh does
    # the keep-alive renews before expiry only past half the token's life: a fresh one stays
    kept = site.cookies["cx_access"]
    r = await site.post("/session/refresh", data={"csrf": csrf_of(inbox)})
    assert r.status_code == 204 and site.cookies["cx_access"] == kept


async def test_sign_out_ends_the_session(site, client, factory):
    org = await factory.org()
    token = await signed_in(site, org.admin)
    refresh = site.cookies["cx_refresh"]
    r = await site.post("/sign-out", data={"csrf": token})
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in")
    assert "cx_access" not in site.cookies and "cx_refresh" not in site.cookies
    assert (await site.get("/inbox")).headers["location"] == "/sign-in"
    revoked = await client.post("/auth/refresh", json={"refreshToken": refresh})
    assert revoked.status_code == 401


async def test_a_deactivated_person_is_signed_out(site, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    await signed_in(site, agent)
    async with runtime.unit_of_work() as session:
        user = await session.get(User, agent.id)
        assert user is not None
        user.is_active = False
    r = await site.get("/inbox")
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in")
    htmx = await site.get("/inbox/list", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == "/sign-in"


async def test_every_console_form_needs_its_csrf_token(site, runtime, graph, factory):
    """Each POST route of the console, signed in, without the token: 403, and nothing changes."""
    org = await factory.org()
    thread = await make_thread(runtime, graph, org)
    await signed_in(site, org.admin)
    posts = [
        route.path.replace("{id}", thread.id)
        for router in ROUTERS
        for route in router.routes
        if "POST" in getattr(route, "methods", ())
    ]
    assert len(posts) >= 10
    for path in posts:
        for headers in ({}, {"X-CSRF-Token": "0" * 64}):
            r = await site.post(path, data={"text": "forged", "language": "es"}, headers=headers)
            assert r.status_code == 403, (path, r.status_code)
    assert "cx_access" in site.cookies  # not signed out by a forged form
