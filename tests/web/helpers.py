"""Helpers for the console's tests: a browser-like client at the site's root (it keeps cookies),
the CSRF token of a page, and signing in through the sign-in form."""

from __future__ import annotations

import random
import re

import httpx

from tests.fixtures.factories import PASSWORD, Member

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
HTMX = {"HX-Request": "true"}


def browser(app, *, scheme: str = "http", language: str = "en") -> httpx.AsyncClient:
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(
        transport=transport, base_url=f"{scheme}://console.test", headers={"Accept-Language": language}
    )


def csrf_of(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def sign_in(site: httpx.AsyncClient, member: Member, password: str = PASSWORD) -> httpx.Response:
    form = await site.get("/sign-in")
    assert form.status_code == 200, form.text
    return await site.post(
        "/sign-in", data={"email": member.email, "password": password, "csrf": csrf_of(form)}
    )


async def signed_in(site: httpx.AsyncClient, member: Member) -> str:
    """Sign ``member`` in; answers the CSRF token of their pages."""
    r = await sign_in(site, member)
    assert r.status_code == 303 and r.headers["location"] == "/inbox", r.text
    inbox = await site.get("/inbox")
    assert inbox.status_code == 200, inbox.text
    return csrf_of(inbox)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each cookie the response sets, by name: its whole ``Set-Cookie`` line."""
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}
